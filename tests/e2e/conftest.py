# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for end-to-end tests of real guests: the built `xvm` binary on a
local:///TMP state dir of each test's own (the qemu backend, TCG), the test
guest and the Debian kernel + initramfs that meson built.

Every wait polls a condition with a deadline; nothing sleeps a fixed time
except where the test is that nothing happens (a paused guest's ticks).
Every test must leave no process behind: the `xvm` fixture hard-stops what
is still running through the CLI, then looks in /proc for any process whose
command line names the test's state dir (QEMU, the monitor helper, swtpm), kills it
and fails the test if there was one."""
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

XVM = os.environ.get("XVM_CLI")
GUEST_ELF = os.environ.get("XVM_TEST_GUEST_ELF")
LINUX_KERNEL = os.environ.get("XVM_TEST_LINUX_KERNEL")
LINUX_INITRD = os.environ.get("XVM_TEST_LINUX_INITRD")
BALLOON_KERNEL = os.environ.get("XVM_TEST_BALLOON_KERNEL")
BALLOON_INITRD = os.environ.get("XVM_TEST_BALLOON_INITRD")
LINUX_CMDLINE = "console=ttyS0 quiet panic=-1 rdinit=/init"

# The test guest's serial protocol (tests/guest/main.c).
READY = re.compile(r"XVM-GUEST READY vcpus=(?P<vcpus>\S+) memory=(?P<memory>\S+) boot=(?P<boot>[0-9a-f]{16})")
TICK = re.compile(r"XVM-GUEST TICK boot=(?P<boot>[0-9a-f]{16}) n=(?P<n>\d+)")
POWEROFF = re.compile(r"XVM-GUEST POWEROFF$")
# The Linux fixture's /init (tests/linux/init.sh).
LINUX_READY = re.compile(r"XVM-LINUX READY cpus=(?P<cpus>\d+) mem=(?P<mem>\d+)")
LINUX_POWEROFF = re.compile(r"XVM-LINUX POWEROFF")
LINUX_ERROR = re.compile(r"XVM-LINUX ERROR (?P<why>.*)")

MiB = 1024 * 1024


def parse_size(v):
    m = re.fullmatch(r"(\d+)(KiB|MiB|GiB|TiB)?", str(v))
    return int(m[1]) * {None: 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}[m[2]]


def wait_for(cond, timeout, what, interval=0.05):
    """Polls cond() until it returns a true value (returned), or fails."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = cond()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
        time.sleep(interval)


# --- processes ---------------------------------------------------------------

def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return None


def _is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def procs_under(path):
    """{pid: argv} of the live processes whose command line names path."""
    path = str(path)
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        argv = _cmdline(name)
        if argv and any(path in a for a in argv) and not _is_zombie(name):
            found[int(name)] = argv
    return found


def qemu_pids(path, uuid=None):
    """The QEMU processes (not the monitor helper) of a state dir, or of one VM."""
    return sorted(pid for pid, argv in procs_under(path).items()
                  if os.path.basename(argv[0]).startswith("qemu-system")
                  and (uuid is None or uuid in argv))


def qemu_pid(path, uuid):
    pids = qemu_pids(path, uuid)
    assert len(pids) == 1, f"wanted one QEMU for VM {uuid}, found {pids}"
    return pids[0]


def vcpu_threads(pid):
    """{thread name: Cpus_allowed_list} of QEMU's vCPU threads ("CPU N/TCG";
    the backend runs QEMU with debug-threads=on)."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                allowed = re.search(r"^Cpus_allowed_list:\s*(\S+)", f.read(), re.M)[1]
        except OSError:
            continue
        if re.fullmatch(r"CPU \d+/\w+", comm):
            threads[comm] = allowed
    return threads


# --- the console -------------------------------------------------------------

class Console:
    """`xvm console vm=NAME` without a terminal: the current boot's output,
    followed until the VM stops (the process then exits). Lines are read
    with deadlines; every line read is kept for failure messages."""

    def __init__(self, xvm, vm):
        self.vm = vm
        self.proc = subprocess.Popen([*xvm.prefix, XVM, "console", f"vm={vm}"], env=xvm.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buf = b""
        self.lines = []
        self.eof = False

    def _line(self, deadline):
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            if self.eof:
                raise EOFError("the console ended (the VM stopped)")
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no complete line in time")
            data = os.read(fd, 65536)
            if not data:
                self.eof = True
                if self.buf:               # a last line without its newline
                    self.buf += b"\n"
                continue
            self.buf += data
        return self._take_line()

    def _take_line(self):
        line, self.buf = self.buf.split(b"\n", 1)
        line = line.decode(errors="replace").rstrip("\r")
        self.lines.append(line)
        return line

    def wait(self, pattern, timeout=30.0):
        """The match of the next line that pattern matches (searched anywhere
        in it); fails on a time-out, the end of the console or the Linux
        fixture's ERROR line, with the transcript."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._line(deadline)
            except (TimeoutError, EOFError) as e:
                pytest.fail(f"console of {self.vm}: waiting for {pattern.pattern!r}: {e}\n{self.transcript()}")
            if m := pattern.search(line):
                return m
            if m := LINUX_ERROR.search(line):
                pytest.fail(f"guest error: {m['why']}\n{self.transcript()}")

    def wait_prompt(self, pattern, timeout=30.0):
        """Like wait, but also matches the line still being written: a prompt
        ("NAME login: ") waits for input without its newline."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            while b"\n" in self.buf:
                if m := pattern.search(self._take_line()):
                    return m
            if m := pattern.search(self.buf.decode(errors="replace")):
                return m
            left = deadline - time.monotonic()
            if self.eof or left <= 0 or not select.select([fd], [], [], left)[0]:
                pytest.fail(f"console of {self.vm}: waiting for {pattern.pattern!r}: "
                            f"{'the console ended' if self.eof else 'timed out'}\n{self.transcript()}")
            data = os.read(fd, 65536)
            self.eof = not data
            self.buf += data

    def read_for(self, seconds):
        """Every line that comes within `seconds` (the test is that nothing,
        or nothing of some kind, comes)."""
        deadline = time.monotonic() + seconds
        got = []
        while True:
            try:
                got.append(self._line(deadline))
            except (TimeoutError, EOFError):
                return got

    def last_tick(self, timeout=10.0):
        """The next TICK line's (boot, n)."""
        m = self.wait(TICK, timeout)
        return m["boot"], int(m["n"])

    def ended(self, timeout=10.0):
        """Reads to the end (the VM stopped); returns the console's exit status."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            try:
                self._line(deadline)
            except EOFError:
                break
            except TimeoutError:
                pytest.fail(f"console of {self.vm} still open after {timeout} s\n{self.transcript()}")
        try:
            return self.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pytest.fail(f"console of {self.vm}: output ended but the process did not exit")

    def transcript(self, last=30):
        return "--- console (last lines) ---\n" + "\n".join(self.lines[-last:])

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


# --- the CLI -----------------------------------------------------------------

class Xvm:
    """Runs `xvm` with XVM_URI=local:///STATE_DIR (the qemu backend, TCG)."""

    def __init__(self, state_dir):
        self.state_dir = str(state_dir)
        self.uri = "local://" + self.state_dir
        self.env = dict(os.environ, XVM_URI=self.uri, XVM_QEMU_ACCEL="tcg")
        for k in ("XVM_HC_FAULT", "XVM_QEMU_BINARY", "XVM_SHUTDOWN_TIMEOUT"):
            self.env.pop(k, None)
        self.consoles = []
        self.prefix = []    # what runs the CLI: `ip netns exec NS` for a network namespace

    def run(self, *args, env=None, timeout=120):
        e = dict(self.env, **(env or {}))
        return subprocess.run([*self.prefix, XVM, *args], env=e, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)

    def ok(self, *args, **kw):
        """Runs a command that must succeed; returns its stdout, stripped."""
        p = self.run(*args, **kw)
        assert p.returncode == 0, f"xvm {' '.join(args)} -> {p.returncode}\n{p.stdout}{p.stderr}"
        assert p.stderr == "", p.stderr
        return p.stdout.strip()

    def fails(self, *args, **kw):
        """Runs a command that must fail with an API error (exit 1); returns stderr."""
        p = self.run(*args, **kw)
        assert p.returncode == 1, f"xvm {' '.join(args)} -> {p.returncode}, wanted 1\n{p.stdout}{p.stderr}"
        assert p.stderr.startswith("Error: "), p.stderr
        return p.stderr

    def records(self, *args):
        return json.loads(self.ok(*args, "--json"))

    def install(self, name, template="sim test"):
        return self.ok("vm-install", f"template={template}", f"new-name-label={name}")

    def guest(self, name, *params, kernel=None):
        """A VM booting a kernel (the test guest's by default) directly, with
        extra FIELD=VALUE params."""
        uuid = self.install(name)
        self.ok("vm-param-set", f"uuid={uuid}", f"PV-kernel={kernel or GUEST_ELF}", *params)
        return uuid

    def set_memory(self, uuid, static_max, dynamic=None):
        """memory-static-max and both dynamic limits (dynamic defaults to
        static_max), one field per call, in an order that keeps
        static-min <= dynamic-min <= dynamic-max <= static-max at each step."""
        dynamic = static_max if dynamic is None else dynamic
        order = [("memory-static-max", static_max), ("memory-dynamic-max", dynamic),
                 ("memory-dynamic-min", dynamic)]
        if parse_size(static_max) < int(self.get(uuid, "memory-static-max")):
            order.reverse()
        for field, value in order:
            self.ok("vm-param-set", f"uuid={uuid}", f"{field}={value}")

    def get(self, uuid, param, key=None):
        args = ["vm-param-get", f"uuid={uuid}", f"param-name={param}"]
        if key:
            args.append(f"param-key={key}")
        return self.ok(*args)

    def params(self, uuid):
        """vm-param-list --json: the VM's record, with its metrics fields."""
        recs = self.records("vm-param-list", f"uuid={uuid}")
        return recs[0] if isinstance(recs, list) else recs

    def power(self, uuid):
        return self.get(uuid, "power-state")

    def listed_power(self, name):
        """The power state that `vm-list` shows (it reconciles with the hypervisor)."""
        return self.ok("vm-list", f"name-label={name}", "params=power-state", "--minimal")

    def wait_power(self, name, state, timeout=20):
        return wait_for(lambda: self.listed_power(name) == state, timeout, f"{name} to be {state}")

    def console(self, vm):
        c = Console(self, vm)
        self.consoles.append(c)
        return c

    def qemu(self, uuid=None):
        return qemu_pids(self.state_dir, uuid)

    def run_dirs(self):
        """What the backend keeps of running domains: run/qemu/DOMID dirs and by-uuid links."""
        base = os.path.join(self.state_dir, "run", "qemu")
        if not os.path.isdir(base):
            return []
        left = [d for d in os.listdir(base) if d.isdigit()]
        by_uuid = os.path.join(base, "by-uuid")
        if os.path.isdir(by_uuid):
            left += ["by-uuid/" + u for u in os.listdir(by_uuid)]
        return left

    def assert_nothing_running(self, timeout=10):
        """No QEMU, no monitor, no run dir of any domain of this state dir."""
        wait_for(lambda: not procs_under(self.state_dir), timeout, "every process of the state dir to exit")
        assert self.run_dirs() == [], f"run dirs left: {self.run_dirs()}"

    def stop_everything(self):
        """Hard-stops through the CLI whatever VM is still up (teardown)."""
        try:
            for rec in self.records("vm-list", "params=uuid,power-state"):
                if rec["power-state"].lower() != "halted":
                    self.run("vm-shutdown", f"uuid={rec['uuid']}", "--force", timeout=60)
        except Exception:       # the test's failure, if any, says more
            pass


# The state dirs this session made: other sessions on the machine (other
# checkouts' test runs) have their own, and their guests are not ours.
_session_states = []


@pytest.fixture
def xvm():
    assert XVM, "XVM_CLI must name the built xvm binary (meson test sets it)"
    assert GUEST_ELF and os.path.exists(GUEST_ELF), "XVM_TEST_GUEST_ELF must name the built guest.elf"
    # A short path: QEMU's unix sockets live under it (sun_path is 108 bytes).
    state = tempfile.mkdtemp(prefix="xvm-e2e-", dir="/tmp")
    _session_states.append(state)
    x = Xvm(state)
    yield x
    for c in x.consoles:
        c.close()
    x.stop_everything()
    deadline = time.monotonic() + 10
    while procs_under(state) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = procs_under(state)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    shutil.rmtree(state, ignore_errors=True)
    if left:
        pytest.fail("processes left behind after a hard shutdown of every VM:\n"
                    + "\n".join(f"{pid}: {' '.join(argv)[:300]}" for pid, argv in left.items()))


@pytest.fixture(scope="session", autouse=True)
def no_leftovers_at_all():
    """After the session: no process names a state dir of this session."""
    yield
    # Only this session's state dirs: other runs of the suite on the machine are not ours.
    left = {pid: argv for state in _session_states for pid, argv in procs_under(state + "/").items()
            if os.path.basename(argv[0]).startswith(("qemu-system", "xvm-qemu-monitor", "swtpm"))}
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not left, f"processes left behind by the e2e session: {left}"


def qmp_query(sock_path, command, timeout=5.0, arguments=None):
    """One QMP command (with its arguments, if any) on a fresh connection to
    a QMP socket: its "return"."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    f = s.makefile("rwb")
    try:
        def reply():
            while True:
                msg = json.loads(f.readline())
                if "return" in msg or "error" in msg:
                    return msg
        json.loads(f.readline())                      # the greeting
        f.write(b'{"execute": "qmp_capabilities"}\n')
        f.flush()
        reply()
        f.write(json.dumps({"execute": command, **({"arguments": arguments} if arguments else {})}).encode() + b"\n")
        f.flush()
        msg = reply()
        assert "return" in msg, msg
        return msg["return"]
    finally:
        f.close()
        s.close()
