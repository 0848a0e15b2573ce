"""Boots the test guest under bare QEMU (no xvm), in both boot forms (-kernel
guest.elf, disk guest.img) on both machines (pc, q35), always with TCG so it
behaves the same everywhere, and checks what it promises on its serial port
(see main.c): the ready line, the power button, resume after save/restore,
and the command-line hooks as QMP reports them.

Every wait is bounded; every QEMU is killed when its test ends."""

import os
import re
import time

import pytest
from barequemu import started_qemus

ELF = os.environ["XVM_TEST_GUEST_ELF"]
IMG = os.environ["XVM_TEST_GUEST_IMG"]
READY_BUDGET = 3.0   # seconds from QEMU's start to the ready line (0.12-0.15 measured)

CMDLINE = re.compile(r"XVM-GUEST CMDLINE (.*)$")
READY = re.compile(r"XVM-GUEST READY vcpus=(\S+) memory=(\S+) boot=([0-9a-f]{16})$")
TICK = re.compile(r"XVM-GUEST TICK boot=([0-9a-f]{16}) n=(\d+)$")

FORMS = ["kernel", "disk"]
MACHINES = ["pc", "q35"]


def guest_args(form, machine, append=None, extra=(), incoming=None):
    args = ["-machine", machine, "-smp", "2", "-m", "256"]
    if form == "kernel":
        args += ["-kernel", ELF]
        if append is not None:
            args += ["-append", append]
    else:
        args += ["-drive", f"file={IMG},format=raw,if=ide,snapshot=on"]
    if incoming:
        args += ["-incoming", incoming]
    return args + list(extra)


@pytest.fixture
def qemu():
    """A factory of QEMUs running the test guest, all killed afterwards."""
    with started_qemus("xvm-guest-") as start:
        yield lambda *args, **kwargs: start(guest_args(*args, **kwargs))


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
