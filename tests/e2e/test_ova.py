# SPDX-License-Identifier: LGPL-2.1-or-later
"""Export to OVA and import: a VM whose disk is the test guest's bootable image
(HVM from "Other install media") goes out as an OVA and comes back as a new VM
that boots from its imported disk."""
import os

from conftest import READY

GUEST_IMG = os.environ.get("XVM_TEST_GUEST_IMG")
BOOT_TIMEOUT = 120


def test_an_imported_vm_boots(xvm, tmp_path):
    assert GUEST_IMG and os.path.exists(GUEST_IMG), "XVM_TEST_GUEST_IMG must name the built guest.img"
    vm = xvm.install("orig", template="Other install media")
    xvm.ok("vm-param-set", f"uuid={vm}", "memory-static-min=64MiB")
    xvm.set_memory(vm, "96MiB")
    # The disk the template gave the VM gets the guest's bootable image.
    disk = xvm.ok("vbd-list", f"vm-uuid={vm}", "userdevice=0", "params=vdi-uuid", "--minimal")
    xvm.ok("vdi-import", f"uuid={disk}", f"filename={GUEST_IMG}", "format=raw")
    ova = tmp_path / "orig.ova"
    xvm.ok("vm-export", "vm=orig", f"filename={ova}", "compress=true")
    # The original goes with its disk: what boots next can only be the import.
    xvm.ok("vm-uninstall", "vm=orig", "--force")
    copy = xvm.ok("vm-import", f"filename={ova}")
    assert xvm.ok("vm-param-get", f"uuid={copy}", "param-name=name-label") == "orig"
    xvm.ok("vm-start", f"uuid={copy}")
    m = xvm.console("orig").wait(READY, timeout=BOOT_TIMEOUT)
    assert (m["vcpus"], m["memory"]) == ("1", "96MiB")
    xvm.ok("vm-shutdown", f"uuid={copy}", "--force")
    xvm.ok("vm-uninstall", f"uuid={copy}", "--force")
    xvm.assert_nothing_running()
