# SPDX-License-Identifier: LGPL-2.1-or-later
"""A real Linux (Debian's kernel, the busybox initramfs of tests/linux) run
through xvm: SMP boot, the ACPI power button, and the balloon."""
import os
import time

import pytest

from conftest import (BALLOON_INITRD, BALLOON_KERNEL, LINUX_CMDLINE, LINUX_INITRD, LINUX_KERNEL, LINUX_POWEROFF,
                      LINUX_READY, MiB, qmp_query, wait_for)

BOOT_TIMEOUT = 150      # ~10-15 s under TCG on an idle host; much more on a loaded one


def linux_vm(xvm, name, kernel, initrd):
    for f in (kernel, initrd):
        assert f and os.path.exists(f), f"missing Linux fixture {f!r} (meson test sets the paths)"
    uuid = xvm.guest(name, f"PV-ramdisk={initrd}", f"PV-args={LINUX_CMDLINE}",
                     "VCPUs-max=2", "VCPUs-at-startup=2",
                     kernel=kernel)
    xvm.set_memory(uuid, "256MiB")
    return uuid


def test_linux_boots_smp_and_shuts_down_cleanly(xvm):
    uuid = linux_vm(xvm, "deb", LINUX_KERNEL, LINUX_INITRD)
    xvm.ok("vm-start", "vm=deb")
    c = xvm.console("deb")
    m = c.wait(LINUX_READY, timeout=BOOT_TIMEOUT)
    assert m["cpus"] == "2", c.transcript()
    assert 200 * 1024 < int(m["mem"]) <= 256 * 1024, m["mem"]
    assert xvm.params(uuid)["VCPUs-number"] == 2
    xvm.ok("vm-shutdown", "vm=deb")
    assert xvm.power(uuid) == "halted"
    c.wait(LINUX_POWEROFF, timeout=10)
    assert c.ended() == 0
    xvm.assert_nothing_running()


def test_linux_balloon_follows_the_memory_target(xvm):
    uuid = linux_vm(xvm, "deb", BALLOON_KERNEL, BALLOON_INITRD)
    xvm.ok("vm-start", "vm=deb")
    c = xvm.console("deb")
    c.wait(LINUX_READY, timeout=BOOT_TIMEOUT)
    assert xvm.params(uuid)["memory-actual"] == 256 * MiB
    qmp = os.path.join(xvm.state_dir, "run", "qemu", str(xvm.params(uuid)["domid"]), "qmp.sock")
    for target in (160, 256):
        xvm.ok("vm-memory-target-set", f"target={target}MiB", "vm=deb")
        assert xvm.params(uuid)["memory-target"] == target * MiB
        # The guest's balloon driver obeys (what QEMU sees)...
        wait_for(lambda: qmp_query(qmp, "query-balloon")["actual"] == target * MiB, 60,
                 f"the guest to balloon to {target} MiB (QMP)", interval=0.5)
        # ... and xvm shows it.
        seen = []
        def actual():
            seen.append(xvm.params(uuid)["memory-actual"])
            return seen[-1] == target * MiB
        deadline = time.monotonic() + 10
        while not actual() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert seen[-1] == target * MiB, f"memory-actual {seen[-1]}, QEMU's balloon {target * MiB}"
    xvm.ok("vm-shutdown", "vm=deb")
    assert xvm.power(uuid) == "halted"
    xvm.assert_nothing_running()
