"""Shared by the real-Linux tests, whoever starts the VM (bare QEMU here,
xvm's qemu backend in later tests): what the test kernel and initramfs are,
what their /init prints (see init.sh), and a line reader for a serial console
or QMP monitor on a unix socket, where every wait has a deadline.

    con = SerialConsole.connect(path, timeout=30, alive=proc.poll)
    m = con.wait(READY, timeout=120)       # re.Match, or TimeoutError/EOFError
    assert m["cpus"] == "2"

Named serialconsole, not serial, so as not to shadow pyserial."""

import os
import re
import select
import socket
import time

# Built by tests/linux/meson.build; meson passes their paths to the tests.
KERNEL = os.environ.get("XVM_TEST_LINUX_KERNEL")
INITRD = os.environ.get("XVM_TEST_LINUX_INITRD")

# A lean command line: serial console, no chatter, reboot at once on a panic
# (with QEMU's -no-reboot: exit), our /init straight from the initramfs.
CMDLINE = "console=ttyS0 quiet panic=-1 rdinit=/init"

READY = re.compile(r"XVM-LINUX READY cpus=(?P<cpus>\d+) mem=(?P<mem>\d+)$")
POWEROFF = re.compile(r"XVM-LINUX POWEROFF$")
ERROR = re.compile(r"XVM-LINUX ERROR (?P<why>.*)$")


class LineSocket:
    """A connected unix stream socket, read line by line with deadlines."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    @classmethod
    def connect(cls, path, timeout=30.0, alive=None):
        """Connects to path, retrying until it exists and listens (QEMU makes
        it once started), at most timeout seconds. alive(), if given, is
        polled meanwhile: a non-None value (a process's exit code, say)
        means the socket will never come."""
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
                return cls(sock)
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
    """A guest's serial console; keeps every line read, for failure messages."""

    def __init__(self, sock):
        super().__init__(sock)
        self.lines = []

    def wait(self, pattern, timeout=60.0):
        """Returns the match of the next line that pattern matches (searched
        anywhere in the line: kernel messages may share it). Fails at once on
        the initramfs's ERROR line or when the console closes (the VM exited);
        with the console transcript in the message either way."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.line(deadline)
            except (TimeoutError, EOFError) as e:
                raise type(e)(f"waiting for {pattern.pattern!r}: {e}\n"
                              + self.transcript()) from None
            self.lines.append(line)
            if m := pattern.search(line):
                return m
            if m := ERROR.search(line):
                raise AssertionError(f"guest error: {m['why']}\n" + self.transcript())

    def transcript(self, last=40):
        return "--- console (last lines) ---\n" + "\n".join(self.lines[-last:])
