"""A bare qemu-system-x86_64 for the tests that check guests without xvm
(tests/guest, tests/linux): its serial console and QMP monitor on unix
sockets, read line by line where every wait has a deadline, and a factory
that kills every QEMU a test started.

    with started_qemus("xvm-guest-") as start:
        q = start(["-machine", "q35", "-kernel", elf])
        m = q.serial.wait(READY)          # re.Match, or TimeoutError/EOFError
        q.qmp.cmd("system_powerdown")
"""

import contextlib
import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import time

QEMU = "qemu-system-x86_64"
WAIT = 30.0   # seconds, the bound of any single wait (TCG on a busy host)


class LineSocket:
    """A connected unix stream socket, read line by line with deadlines."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    @classmethod
    def connect(cls, path, timeout=WAIT, alive=None, **kwargs):
        """Connects to path, retrying until it exists and listens (QEMU makes
        it once started), at most timeout seconds. alive(), if given, is
        polled meanwhile: a non-None value (a process's exit code, say)
        means the socket will never come."""
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
                return cls(sock, **kwargs)
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                if alive is not None and (rc := alive()) is not None:
                    raise RuntimeError(f"gone (exit {rc}) before {path} appeared")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no socket at {path} after {timeout} s")
                time.sleep(0.01)

    def line(self, deadline):
        """The next line (without CR/LF), read by the monotonic deadline."""
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise TimeoutError("no complete line in time")
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("the other end closed the socket")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace").rstrip("\r")

    def close(self):
        self.sock.close()


class SerialConsole(LineSocket):
    """A guest's serial console; keeps every line read, for failure messages.
    `error`, a pattern, names the line by which the guest says it failed."""

    def __init__(self, sock, error=None):
        super().__init__(sock)
        self.lines = []
        self.error = error

    def wait(self, pattern, timeout=WAIT):
        """Returns the match of the next line that pattern matches (searched
        anywhere in the line: kernel messages may share it). Fails at once on
        the error line or when the console closes (the VM exited), with the
        console transcript in the message either way."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.line(deadline)
            except (TimeoutError, EOFError) as e:
                raise type(e)(f"waiting for {pattern.pattern!r}: {e}\n" + self.transcript()) from None
            self.lines.append(line)
            if m := pattern.search(line):
                return m
            if self.error and (m := self.error.search(line)):
                raise AssertionError(f"guest error: {m.group(0)}\n" + self.transcript())

    def transcript(self, last=40):
        return "--- console (last lines) ---\n" + "\n".join(self.lines[-last:])


class QMP(LineSocket):
    """Just enough QMP: commands, and the events seen meanwhile."""

    def __init__(self, sock):
        super().__init__(sock)
        self.events = []
        self.line(time.monotonic() + WAIT)          # the greeting
        self.cmd("qmp_capabilities")

    def _next(self, deadline):
        msg = json.loads(self.line(deadline))
        if "event" in msg:
            self.events.append(msg)
        return msg

    def cmd(self, name, **args):
        self.sock.sendall(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        deadline = time.monotonic() + WAIT
        while True:
            msg = self._next(deadline)
            if "error" in msg:
                raise RuntimeError(f"{name}: {msg['error']}")
            if "return" in msg:
                return msg["return"]

    def event(self, name, timeout=WAIT):
        """Returns (and consumes) the first event called name, past or future."""
        deadline = time.monotonic() + timeout
        i = 0
        while True:
            for i in range(i, len(self.events)):
                if self.events[i]["event"] == name:
                    return self.events.pop(i)
            i = len(self.events)
            self._next(deadline)

    def status(self, wanted, timeout=WAIT):
        """Polls query-status until the run state is wanted."""
        deadline = time.monotonic() + timeout
        while (status := self.cmd("query-status")["status"]) != wanted:
            if time.monotonic() > deadline:
                raise TimeoutError(f"run state {status}, not {wanted}")
            time.sleep(0.02)


class BareQemu:
    """One QEMU with the given arguments, plus TCG, no devices or display,
    and its files named NAME.*: serial and QMP unix sockets, its own output
    in NAME.log."""

    def __init__(self, name, args, serial_error=None):
        argv = [QEMU, "-accel", "tcg", "-nodefaults", "-display", "none",
                # wait=on: QEMU starts the guest only once we listen, so no
                # output is lost.
                "-chardev", f"socket,id=com1,path={name}.serial,server=on,wait=on",
                "-serial", "chardev:com1",
                "-qmp", f"unix:{name}.qmp,server=on,wait=off", *args]
        self.dir = os.path.dirname(name)   # for a test's own files beside QEMU's
        self.serial = self.qmp = None
        self.log = open(f"{name}.log", "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self.serial = SerialConsole.connect(f"{name}.serial", WAIT, self.proc.poll, error=serial_error)
            self.qmp = QMP.connect(f"{name}.qmp", WAIT, self.proc.poll)
        except BaseException:
            self.kill()
            raise

    def exits(self, timeout=WAIT):
        return self.proc.wait(timeout=timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=WAIT)
        for s in (self.serial, self.qmp):
            if s:
                s.close()
        self.log.close()


@contextlib.contextmanager
def started_qemus(prefix, **kwargs):
    """A factory start(args) of BareQemu processes; every one is killed and
    its files removed when the block ends."""
    tmp = tempfile.mkdtemp(prefix=prefix)   # short: unix socket paths are limited
    started = []

    def start(args):
        started.append(BareQemu(os.path.join(tmp, str(len(started))), args, **kwargs))
        return started[-1]

    try:
        yield start
    finally:
        for q in started:
            q.kill()
        shutil.rmtree(tmp)
