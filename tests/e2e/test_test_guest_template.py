# SPDX-License-Identifier: LGPL-2.1-or-later
"""The "xvm test guest" template: vm-install copies the test guest's disk
image into a new VDI of the default SR, and the VM boots from it through
SeaBIOS (no PV-kernel) and powers off on the ACPI power button."""
from conftest import MiB, POWEROFF, READY


def test_vm_install_of_the_test_guest_boots_from_its_own_disk(xvm):
    vms = [xvm.install(name, template="xvm test guest") for name in ("tg-a", "tg-b")]
    assert xvm.get(vms[0], "PV-kernel") == ""
    vdis = []
    for vm in vms:
        (drive,) = xvm.records("vm-disk-list", f"uuid={vm}")
        assert (drive["userdevice"], drive["bootable"]) == ("0", True)
        vdis.append(drive["VDI"])
        assert int(xvm.ok("vdi-param-get", f"uuid={drive['VDI']}", "param-name=virtual-size")) == 1 * MiB
    assert vdis[0] != vdis[1], "the two VMs share one disk"

    for name in ("tg-a", "tg-b"):
        xvm.ok("vm-start", f"vm={name}")
        m = xvm.console(name).wait(READY)
        assert (m["vcpus"], m["memory"]) == ("1", "64MiB")
    c = xvm.console("tg-a")
    xvm.ok("vm-shutdown", "vm=tg-a")
    c.wait(POWEROFF, timeout=10)
    assert [xvm.power(vm) for vm in vms] == ["halted", "running"]
    xvm.ok("vm-shutdown", "vm=tg-b")
    xvm.assert_nothing_running()
