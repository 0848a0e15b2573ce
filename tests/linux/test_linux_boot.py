"""Boots Debian's kernel with the tests' busybox initramfs under bare QEMU (no
xvm): direct kernel boot, TCG (the same everywhere; KVM may be missing or
slow), 2 vCPUs. Userspace must report both CPUs, and an ACPI power button
press (QMP system_powerdown) must power the guest off and end QEMU by itself.

Every wait is bounded; every QEMU is killed when its test ends."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from serialconsole import CMDLINE, INITRD, KERNEL, POWEROFF, READY, LineSocket, SerialConsole

QEMU = "qemu-system-x86_64"
BOOT_BUDGET = 120.0    # s from QEMU's start to READY under TCG (~9 s measured)
POWEROFF_BUDGET = 60.0  # s from system_powerdown to QEMU's exit (<1 s measured)
WAIT = 30.0            # s, any other single wait
MEM_MIB = 256

pytestmark = pytest.mark.skipif(not (KERNEL and INITRD),
                                reason="run by meson, which builds the kernel and initrd")


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
        """The first event called name, already seen or yet to come."""
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.events:
                if ev["event"] == name:
                    return ev
            self._next(deadline)


class Qemu:
    """One bare QEMU running the test kernel; its files are NAME.serial,
    NAME.qmp (unix sockets) and NAME.log (QEMU's own output)."""

    def __init__(self, name, machine, smp=2):
        args = [QEMU, "-accel", "tcg", "-machine", machine,
                "-smp", str(smp), "-m", str(MEM_MIB),
                "-kernel", KERNEL, "-initrd", INITRD, "-append", CMDLINE,
                "-nodefaults", "-display", "none",
                "-no-reboot",          # a guest panic (panic=-1) ends QEMU
                # wait=on: the guest starts only once we listen; nothing lost.
                "-chardev", f"socket,id=com1,path={name}.serial,server=on,wait=on",
                "-serial", "chardev:com1",
                "-qmp", f"unix:{name}.qmp,server=on,wait=off"]
        self.serial = self.qmp = None
        self.log = open(f"{name}.log", "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self.serial = SerialConsole.connect(f"{name}.serial", WAIT, self.proc.poll)
            self.qmp = QMP.connect(f"{name}.qmp", WAIT, self.proc.poll)
        except BaseException:
            self.kill()
            raise

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
    """A factory of Qemu processes, all killed and their files removed after."""
    tmp = tempfile.mkdtemp(prefix="xvm-linux-")   # short: socket paths are limited
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


@pytest.mark.parametrize("machine", ["q35", "pc"])
def test_boots_smp_and_powers_off_through_acpi(qemu, machine):
    q = qemu(machine)
    ready = q.serial.wait(READY, timeout=BOOT_BUDGET)
    booted = time.monotonic() - q.started
    assert ready["cpus"] == "2"
    # MemTotal: what QEMU gave less what the kernel keeps for itself.
    assert MEM_MIB * 1024 // 2 < int(ready["mem"]) < MEM_MIB * 1024

    pressed = time.monotonic()
    q.qmp.cmd("system_powerdown")
    q.serial.wait(POWEROFF, timeout=POWEROFF_BUDGET)
    assert q.qmp.event("SHUTDOWN", timeout=POWEROFF_BUDGET)["data"]["reason"] == "guest-shutdown"
    assert q.proc.wait(timeout=POWEROFF_BUDGET) == 0
    off = time.monotonic() - pressed
    # Shown with pytest -s, and in meson's log.
    print(f"\n{machine}: READY after {booted:.1f} s, QEMU gone {off:.2f} s after the "
          f"power button", file=sys.stderr)


def test_cpu_count_is_what_qemu_gives(qemu):
    # The count is read in the guest, not assumed: 1 vCPU reports 1.
    q = qemu("q35", smp=1)
    assert q.serial.wait(READY, timeout=BOOT_BUDGET)["cpus"] == "1"
