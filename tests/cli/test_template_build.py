# SPDX-License-Identifier: LGPL-2.1-or-later
"""template-build with image= (a small ext4 image mke2fs -d makes, no
debootstrap): the template it makes boots through xvm-boot; its refusals
change nothing. The Debian build itself is tests/e2e/test_debian_template.py."""
import subprocess

TEMPLATE = "Debian 12 (ready to run)"
GRUB_CFG = "menuentry 'Debian' {\n\tlinux /boot/vmlinuz root=LABEL=r ro\n\tinitrd /boot/initrd.img\n}\n"


def ext4_image(tmp_path, files):
    root = tmp_path / "root"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    image = tmp_path / "disk.raw"
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-d", str(root), str(image), "16M"], check=True,
                   capture_output=True)
    return image


def vm_of(xvm, template, name):
    """A VM of the template on a clone of its disk (as vm-install clones it)."""
    vm = xvm.install(name, template=template)
    if not xvm.ok("vbd-list", f"VM={vm}", "type=Disk", "--minimal"):
        tpl = xvm.ok("template-list", f"name-label={template}", "--minimal")
        vdi = xvm.ok("vdi-clone", f"uuid={xvm.ok('vbd-list', f'VM={tpl}', 'params=VDI', '--minimal')}")
        xvm.ok("vbd-create", f"vm-uuid={vm}", f"vdi-uuid={vdi}", "device=0", "type=Disk", "bootable=true")
    return vm


def test_template_build_from_an_image_makes_a_template_booted_by_xvm_boot(xvm, tmp_path):
    image = ext4_image(tmp_path, {"boot/vmlinuz": "K", "boot/initrd.img": "I", "boot/grub/grub.cfg": GRUB_CFG})
    tpl = xvm.ok("template-build", f"image={image}")
    assert xvm.ok("template-list", f"name-label={TEMPLATE}", "--minimal") == tpl
    assert xvm.get(tpl, "PV-bootloader") == "xvm-boot"
    assert xvm.get(tpl, "PV-kernel") == ""
    assert xvm.get(tpl, "memory-static-max") == str(512 << 20)
    [vbd] = xvm.records("vbd-list", f"VM={tpl}", "params=VDI,bootable,type,userdevice")
    assert (vbd["bootable"], vbd["type"], vbd["userdevice"]) == (True, "Disk", "0")
    assert xvm.ok("vdi-param-get", f"uuid={vbd['VDI']}", "param-name=virtual-size") == str(16 << 20)
    vm = vm_of(xvm, TEMPLATE, "deb")
    xvm.ok("vm-start", "vm=deb")
    assert xvm.power(vm) == "running"
    xvm.ok("vm-uninstall", "vm=deb", "--force")


def test_a_disk_xvm_boot_cannot_boot_fails_the_start(xvm, tmp_path):
    image = ext4_image(tmp_path, {"boot/vmlinuz": "K"})      # no grub.cfg
    xvm.ok("template-build", f"image={image}", "name-label=broken")
    vm = vm_of(xvm, "broken", "b")
    err = xvm.fails(1, "vm-start", "vm=b")
    assert "BOOTLOADER_FAILED" in err and "no /boot/grub/grub.cfg" in err, err
    assert xvm.power(vm) == "halted"


def test_template_build_refusals_change_nothing(xvm, tmp_path):
    image = ext4_image(tmp_path, {"boot/grub/grub.cfg": GRUB_CFG})
    xvm.ok("template-build", f"image={image}")
    before = (xvm.snapshot(), xvm.ok("vdi-list", "--minimal"))
    assert "exists already; nothing was made" in xvm.fails(1, "template-build", f"image={image}")
    assert "No such file" in xvm.fails(1, "template-build", "name-label=x", f"image={tmp_path / 'none.raw'}")
    assert "UUID_INVALID" in xvm.fails(1, "template-build", "name-label=x", "sr-uuid=bogus", f"image={image}")
    assert (xvm.snapshot(), xvm.ok("vdi-list", "--minimal")) == before
