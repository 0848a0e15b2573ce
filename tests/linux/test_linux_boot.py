"""Boots Debian's kernel with the tests' busybox initramfs under bare QEMU (no
xvm): direct kernel boot, TCG (the same everywhere; KVM may be missing or
slow), 2 vCPUs. Userspace must report both CPUs, and an ACPI power button
press (QMP system_powerdown) must power the guest off and end QEMU by itself.

Every wait is bounded; every QEMU is killed when its test ends."""

import sys
import time

import pytest
from barequemu import started_qemus

from serialconsole import CMDLINE, ERROR, INITRD, KERNEL, POWEROFF, READY
BOOT_BUDGET = 120.0    # s from QEMU's start to READY under TCG (~9 s measured)
POWEROFF_BUDGET = 60.0  # s from system_powerdown to QEMU's exit (<1 s measured)
MEM_MIB = 256

pytestmark = pytest.mark.skipif(not (KERNEL and INITRD),
                                reason="run by meson, which builds the kernel and initrd")


@pytest.fixture
def qemu():
    """A factory of QEMUs running the test kernel, all killed afterwards."""
    with started_qemus("xvm-linux-", serial_error=ERROR) as start:
        def linux(machine, smp=2):
            return start(["-machine", machine, "-smp", str(smp), "-m", str(MEM_MIB),
                          "-kernel", KERNEL, "-initrd", INITRD, "-append", CMDLINE,
                          "-no-reboot"])   # a guest panic (panic=-1) ends QEMU
        yield linux


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
