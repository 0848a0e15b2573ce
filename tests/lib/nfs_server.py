# SPDX-License-Identifier: LGPL-2.1-or-later
"""An NFSv3 server for tests: nfs-ganesha (VFS FSAL) exporting a temporary
directory, registered with an rpcbind of its own.

Everything happens in a network namespace that private_network() moves the
test process into: only a loopback interface, so the server, the clients the
test runs (libxvm's libnfs, qemu-img, QEMU) and their traffic never leave it.
rpcbind and ganesha also get a mount namespace whose /run is an empty tmpfs:
rpcbind's socket and state files there are theirs, never the host's.
"""
import contextlib
import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)

# A shell in a mount namespace of its own with an empty /run; it starts
# rpcbind, waits for its socket and becomes ganesha. $1: rpcbind's pid file;
# the rest: ganesha's command line.
_LAUNCH = """
mount -t tmpfs tmpfs /run || exit 1
rpcbind -f & echo $! > "$1"
shift
n=0
until [ -S /run/rpcbind.sock ]; do
  n=$((n + 1)); [ $n -lt 200 ] || { echo "rpcbind did not start" >&2; exit 1; }
  sleep 0.05
done
exec "$@"
"""


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


@contextlib.contextmanager
def private_network():
    """Runs the block in a new network namespace with lo up, then returns this
    thread to the namespace it was in."""
    old = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        try:
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
            yield
        finally:
            _check(_libc.setns(old, CLONE_NEWNET), "setns back")
    finally:
        os.close(old)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (our own child not reaped yet) is no longer running.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


class NfsServer:
    """ganesha exporting DIR/export over NFSv3/TCP on 127.0.0.1 of the current
    network namespace. host and export are what an nfs SR's device_config takes."""

    host = "127.0.0.1"

    def __init__(self, dir):
        self.dir = Path(dir)
        self.export = str(self.dir / "export")
        self.conf = self.dir / "ganesha.conf"
        self.log = self.dir / "ganesha.log"
        self.pidfile = self.dir / "ganesha.pid"
        self.rpcbind_pidfile = self.dir / "rpcbind.pid"
        self.proc = None
        self.rpcbind_pid = None

    def _write_conf(self):
        Path(self.export).mkdir(parents=True, exist_ok=True)
        (self.dir / "recovery").mkdir(exist_ok=True)
        # No Bind_addr: ganesha resolves it with AI_ADDRCONFIG, which finds
        # nothing where loopback is the only interface; that interface is
        # all the namespace has, so ganesha is reachable there alone.
        self.conf.write_text(f"""
NFS_CORE_PARAM {{
    Protocols = 3;
    Enable_NLM = false;
    Enable_RQUOTA = false;
}}
NFSV4 {{
    Graceless = true;
    RecoveryBackend = fs;
    RecoveryRoot = "{self.dir / 'recovery'}";
}}
EXPORT {{
    Export_Id = 1;
    Path = "{self.export}";
    Pseudo = "{self.export}";
    Access_Type = RW;
    Squash = No_Root_Squash;
    Protocols = 3;
    Transports = TCP;
    # Tests change the directory behind the server's back too: no stale cache.
    Attr_Expiration_Time = 0;
    FSAL {{ Name = VFS; }}
}}
""")

    def _exported(self):
        r = subprocess.run(["showmount", "-e", self.host], capture_output=True, text=True, timeout=10)
        # "PATH CLIENTS" lines after a heading; PATH may hold spaces.
        return r.returncode == 0 and any(line.rsplit(None, 1)[0] == self.export
                                         for line in r.stdout.splitlines()[1:] if line.strip())

    def start(self, timeout=30):
        self._write_conf()
        for f in (self.pidfile, self.rpcbind_pidfile):
            f.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", _LAUNCH, "launch",
             str(self.rpcbind_pidfile), "ganesha.nfsd", "-F", "-f", str(self.conf), "-L", str(self.log),
             "-p", str(self.pidfile), "-N", "NIV_EVENT"],
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        try:
            while not self._exported():
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"ganesha did not export {self.export}:\n{self.log_tail()}")
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise
        return self

    def log_tail(self, lines=20):
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def pause(self):
        """Stops ganesha without closing its sockets: a server that no longer answers."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self):
        """Stops ganesha, then rpcbind; nothing of either is left running."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        with contextlib.suppress(FileNotFoundError, ValueError):
            self.rpcbind_pid = int(self.rpcbind_pidfile.read_text())
        if self.rpcbind_pid and _alive(self.rpcbind_pid):
            os.kill(self.rpcbind_pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _alive(self.rpcbind_pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(self.rpcbind_pid):
                os.kill(self.rpcbind_pid, signal.SIGKILL)
        self.rpcbind_pid = None

    def running(self):
        """Whether ganesha or rpcbind still runs."""
        pids = [self.proc.pid] if self.proc and self.proc.poll() is None else []
        with contextlib.suppress(FileNotFoundError, ValueError):
            pids.append(int(self.rpcbind_pidfile.read_text()))
        return any(_alive(p) for p in pids)
