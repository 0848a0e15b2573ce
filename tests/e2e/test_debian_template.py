# SPDX-License-Identifier: LGPL-2.1-or-later
"""The "Debian 12 (ready to run)" template: made by `xvm template-build`
(the image from the cache of scripts/build-debian-template.sh; a first build
debootstraps bookworm, minutes, as root), a VM
installed from it on a disk grown past the image boots through xvm-boot to
"NAME login:" on the serial console, its first boot having set the hostname
from the name-label and grown the root filesystem to the disk. One boot of
Debian with systemd under TCG: one to three minutes on a loaded machine."""
import re
import time

from conftest import parse_size

TEMPLATE = "Debian 12 (ready to run)"
BUILD_TIMEOUT = 1800
BOOT_TIMEOUT = 400
DISK = "4GiB"
RESIZED = re.compile(r"EXT4-fs \((\w+)\): resized filesystem to (\d+)")


def install_template(xvm):
    """template-build (the image built or taken from the cache): the seconds it took."""
    start = time.monotonic()
    p = xvm.run("template-build", timeout=BUILD_TIMEOUT)
    assert p.returncode == 0, p.stdout + p.stderr
    return time.monotonic() - start


def install_vm(xvm, name):
    """A VM of the template and its root disk's VDI. vm-install clones the
    template's disk; where it does not (the template-disk provisioning not yet
    in this build), the test clones it as vm-install would."""
    uuid = xvm.install(name, template=TEMPLATE)
    vdi = xvm.ok("vbd-list", f"VM={uuid}", "type=Disk", "params=VDI", "--minimal")
    if not vdi:
        tpl = xvm.ok("template-list", f"name-label={TEMPLATE}", "--minimal")
        base = xvm.ok("vbd-list", f"VM={tpl}", "params=VDI", "--minimal")
        vdi = xvm.ok("vdi-clone", f"uuid={base}", f"new-name-label={name} root")
        xvm.ok("vbd-create", f"vm-uuid={uuid}", f"vdi-uuid={vdi}", "device=0", "type=Disk", "mode=RW",
               "bootable=true")
    return uuid, vdi


def test_debian_ready_to_run_boots_to_a_login_with_its_name_and_a_grown_disk(xvm):
    took = install_template(xvm)
    print(f"template-build (image build or cache): {took:.1f} s")
    # Once: a second build finds the template and makes nothing.
    vdis = xvm.ok("vdi-list", "--minimal")
    assert "exists already; nothing was made" in xvm.fails("template-build")
    assert xvm.ok("vdi-list", "--minimal") == vdis
    tpl = xvm.ok("template-list", f"name-label={TEMPLATE}", "--minimal")
    assert "," not in tpl
    assert xvm.get(tpl, "PV-bootloader") == "xvm-boot"

    uuid, vdi = install_vm(xvm, "deb-e2e")
    image_size = int(xvm.ok("vdi-param-get", f"uuid={vdi}", "param-name=virtual-size"))
    assert image_size < parse_size(DISK)
    xvm.ok("vdi-resize", f"uuid={vdi}", f"disk-size={DISK}")
    xvm.ok("vm-start", "vm=deb-e2e")
    c = xvm.console("deb-e2e")
    start = time.monotonic()
    grown = c.wait(RESIZED, timeout=BOOT_TIMEOUT)
    assert int(grown[2]) * 4096 == parse_size(DISK), grown[0]
    c.wait_prompt(re.compile(r"^deb-e2e login:"), timeout=BOOT_TIMEOUT)
    print(f"vm-start to login prompt: {time.monotonic() - start:.1f} s")
    xvm.ok("vm-shutdown", "vm=deb-e2e", "--force")
    xvm.ok("vm-uninstall", "vm=deb-e2e", "--force")
    xvm.assert_nothing_running()
