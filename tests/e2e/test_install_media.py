# SPDX-License-Identifier: LGPL-2.1-or-later
"""Installing from a CD: an ISO library (an iso SR) whose images show up as
they are copied in, a VM from "Other install media" with the install disc in
its CD drive, booting from it (ISOLINUX, then Linux) through SeaBIOS."""
import os
import shutil

from conftest import LINUX_POWEROFF, LINUX_READY

INSTALL_ISO = os.environ.get("XVM_TEST_INSTALL_ISO")
BOOT_TIMEOUT = 300     # ISOLINUX reads the kernel through the BIOS: slow under TCG on a loaded host


def test_a_vm_installs_from_an_iso_of_the_library(xvm, tmp_path):
    assert INSTALL_ISO and os.path.exists(INSTALL_ISO), "XVM_TEST_INSTALL_ISO must name the built install.iso"
    library = tmp_path / "isos"
    library.mkdir()
    sr = xvm.ok("sr-create", "name-label=ISO library", "type=iso", f"device-config:location={library}")
    assert xvm.ok("cd-list", "--minimal") == ""
    # Copied in while xvm runs nothing: the next listing has it, no sr-scan.
    shutil.copy(INSTALL_ISO, library / "debian-netinst.iso")
    cds = xvm.records("cd-list", "params=name-label,SR,read-only")
    assert [(c["name-label"], c["SR"], c["read-only"]) for c in cds] == [("debian-netinst.iso", sr, True)]

    uuid = xvm.install("inst", template="Other install media")
    xvm.set_memory(uuid, "256MiB")
    # The template gave the VM an empty CD drive at 3: the disc goes in.
    xvm.ok("vm-cd-insert", "vm=inst", "cd-name=debian-netinst.iso")
    xvm.ok("vm-start", "vm=inst")
    c = xvm.console("inst")
    c.wait(LINUX_READY, timeout=BOOT_TIMEOUT)
    cd = xvm.records("vbd-list", f"VM={uuid}", "type=CD", "params=currently-attached,mode")
    assert cd == [{"currently-attached": True, "mode": "RO"}]
    # The disc is in use: it stays in the library while a drive holds it.
    err = xvm.fails("sr-destroy", f"uuid={sr}")
    assert "SR_OPERATION_NOT_SUPPORTED" in err or "VDI_IN_USE" in err
    xvm.ok("vm-shutdown", "vm=inst")
    c.wait(LINUX_POWEROFF, timeout=10)
    assert xvm.power(uuid) == "halted"
    assert xvm.records("vbd-list", f"VM={uuid}", "type=CD", "params=currently-attached") == [
        {"currently-attached": False}]
    # Removed from the library: it goes from cd-list; the drive that held it is emptied.
    os.unlink(library / "debian-netinst.iso")
    assert xvm.ok("cd-list", "--minimal") == ""
    assert xvm.records("vbd-list", f"VM={uuid}", "type=CD", "params=empty,VDI") == [
        {"empty": True, "VDI": "<not in database>"}]
    xvm.ok("vm-uninstall", "vm=inst", "--force")
    xvm.ok("sr-forget", f"uuid={sr}")
    xvm.assert_nothing_running()
