"""Boots the test guest under bare QEMU (no xvm), in both boot forms (-kernel
guest.elf, disk guest.img) on both machines (pc, q35), always with TCG so it
behaves the same everywhere, and checks what it promises on its serial port
(see main.c): the ready line, the power button, resume after save/restore,
and the command-line hooks as QMP reports them.

Every wait is bounded; every QEMU is killed when its test ends."""

import json
import os
import re
import select
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

ELF = os.environ["XVM_TEST_GUEST_ELF"]
IMG = os.environ["XVM_TEST_GUEST_IMG"]
QEMU = "qemu-system-x86_64"
WAIT = 30.0          # seconds, the bound of any single wait (TCG on a busy host)
READY_BUDGET = 3.0   # seconds from QEMU's start to the ready line (0.12-0.15 measured)

CMDLINE = re.compile(r"XVM-GUEST CMDLINE (.*)$")
READY = re.compile(r"XVM-GUEST READY vcpus=(\S+) memory=(\S+) boot=([0-9a-f]{16})$")
TICK = re.compile(r"XVM-GUEST TICK boot=([0-9a-f]{16}) n=(\d+)$")

FORMS = ["kernel", "disk"]
MACHINES = ["pc", "q35"]


class LineSocket:
    """A connected unix socket read line by line, each read with a deadline."""

    def __init__(self, path, deadline, proc):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        while True:                  # QEMU creates the socket once it has started
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if proc.poll() is not None:
                    raise RuntimeError(f"QEMU exited with {proc.returncode}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no socket at {path}")
                time.sleep(0.01)
        self.buf = b""

    def line(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise TimeoutError("no complete line in time")
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("QEMU closed the socket")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace").rstrip("\r")

    def close(self):
        self.sock.close()


class Serial(LineSocket):
    def __init__(self, *args):
        super().__init__(*args)
        self.lines = []

    def wait(self, pattern, timeout=WAIT):
        """Returns the match of the next line matching pattern."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.line(deadline)
            self.lines.append(line)
            m = pattern.match(line)
            if m:
                return m


class QMP(LineSocket):
    def __init__(self, *args):
        super().__init__(*args)
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


class Qemu:
    """One QEMU process, its files named NAME.*: serial and QMP unix sockets,
    its own output in NAME.log."""

    def __init__(self, name, form, machine, append=None, extra=(), incoming=None):
        args = [QEMU, "-machine", machine, "-accel", "tcg", "-nodefaults",
                "-display", "none", "-smp", "2", "-m", "256",
                # wait=on: QEMU starts the guest only once we listen, so no
                # output is lost.
                "-chardev", f"socket,id=com1,path={name}.serial,server=on,wait=on",
                "-serial", "chardev:com1",
                "-qmp", f"unix:{name}.qmp,server=on,wait=off"]
        if form == "kernel":
            args += ["-kernel", ELF]
            if append is not None:
                args += ["-append", append]
        else:
            args += ["-drive", f"file={IMG},format=raw,if=ide,snapshot=on"]
        if incoming:
            args += ["-incoming", incoming]
        self.dir = os.path.dirname(name)
        self.serial = self.qmp = None
        self.log = open(f"{name}.log", "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args + list(extra), stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        try:
            deadline = self.started + WAIT
            self.serial = Serial(f"{name}.serial", deadline, self.proc)
            self.qmp = QMP(f"{name}.qmp", deadline, self.proc)
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


@pytest.fixture
def qemu():
    """A factory of Qemu processes, all killed and cleaned up afterwards."""
    tmp = tempfile.mkdtemp(prefix="xvm-guest-")   # short: socket paths are limited
    started = []

    def start(*args, **kwargs):
        started.append(Qemu(os.path.join(tmp, str(len(started))), *args, **kwargs))
        return started[-1]

    try:
        yield start
    finally:
        for q in started:
            q.kill()
        shutil.rmtree(tmp)


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("form", FORMS)
def test_ready_line(qemu, form, machine):
    q = qemu(form, machine, append="hello world")
    cmdline = q.serial.wait(CMDLINE).group(1)
    ready = q.serial.wait(READY)
    elapsed = time.monotonic() - q.started
    assert ready.group(1, 2) == ("2", "256MiB")
    if form == "kernel":   # QEMU passes the image path first, like GRUB
        assert cmdline == f"{ELF} hello world"
    else:
        assert cmdline == ""
    assert elapsed < READY_BUDGET, f"ready after {elapsed:.2f} s"
    tick = q.serial.wait(TICK)
    assert tick.group(1, 2) == (ready.group(3), "1")


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("form", FORMS)
def test_power_button(qemu, form, machine):
    q = qemu(form, machine)
    q.serial.wait(READY)
    q.serial.wait(TICK)
    q.qmp.cmd("system_powerdown")
    q.serial.wait(re.compile("XVM-GUEST POWEROFF$"), timeout=5)
    assert q.qmp.event("SHUTDOWN", timeout=5)["data"]["reason"] == "guest-shutdown"
    assert q.exits(timeout=5) == 0


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("form", FORMS)
def test_resume_continues_the_run(qemu, form, machine):
    src = qemu(form, machine)
    boot = src.serial.wait(READY).group(3)
    src.serial.wait(TICK)
    before = int(src.serial.wait(TICK).group(2))
    src.qmp.cmd("stop")
    state = os.path.join(src.dir, "state")
    src.qmp.cmd("migrate-set-capabilities",
                capabilities=[{"capability": "events", "state": True}])
    src.qmp.cmd("migrate", uri=f"exec:cat > {state}")
    while (ev := src.qmp.event("MIGRATION"))["data"]["status"] != "completed":
        assert ev["data"]["status"] not in ("failed", "cancelled"), ev
    src.qmp.cmd("quit")
    src.exits()

    dst = qemu(form, machine, incoming=f"exec:cat {state}")
    dst.qmp.status("paused")         # loaded; paused as the source was
    dst.qmp.cmd("cont")
    tick = dst.serial.wait(TICK)
    assert tick.group(1) == boot
    assert int(tick.group(2)) > before
    assert not any(READY.match(line) for line in dst.serial.lines), "the guest booted again"


@pytest.mark.parametrize("machine", MACHINES)
def test_panic_hook_reports_guest_panicked(qemu, machine):
    q = qemu("kernel", machine, append="panic", extra=["-device", "pvpanic"])
    q.serial.wait(READY)
    q.serial.wait(re.compile("XVM-GUEST PANIC$"))
    q.qmp.event("GUEST_PANICKED")


@pytest.mark.parametrize("machine", MACHINES)
def test_panic_hook_without_pvpanic_resets(qemu, machine):
    q = qemu("kernel", machine, append="panic")
    q.serial.wait(re.compile("XVM-GUEST PANIC$"))
    assert q.qmp.event("RESET")["data"]["reason"] == "guest-reset"


@pytest.mark.parametrize("machine", MACHINES)
def test_reboot_hook_resets_into_a_new_boot(qemu, machine):
    q = qemu("kernel", machine, append="reboot")
    first = q.serial.wait(READY).group(3)
    q.serial.wait(re.compile("XVM-GUEST REBOOT$"))
    assert q.qmp.event("RESET")["data"]["reason"] == "guest-reset"
    assert q.serial.wait(READY).group(3) != first


@pytest.mark.parametrize("machine", MACHINES)
def test_poweroff_hook(qemu, machine):
    q = qemu("kernel", machine, append="poweroff")
    q.serial.wait(READY)
    q.serial.wait(re.compile("XVM-GUEST POWEROFF$"))
    assert q.qmp.event("SHUTDOWN")["data"]["reason"] == "guest-shutdown"
    assert q.exits(timeout=5) == 0


def test_poweroff_without_acpi_fails_visibly(qemu):
    # pc only: acpi=off removes pc's PIIX4 power management, but q35's is in
    # its ICH9 chipset, and SeaBIOS then writes an FADT for it itself.
    q = qemu("kernel", "pc,acpi=off", append="poweroff")
    q.serial.wait(re.compile("XVM-GUEST POWEROFF$"))
    q.serial.wait(re.compile("XVM-GUEST POWEROFF-FAILED$"), timeout=5)
    assert q.qmp.cmd("query-status")["status"] == "running"
