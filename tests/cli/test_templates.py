# SPDX-License-Identifier: LGPL-2.1-or-later
"""Templates from the CLI: vm-install provisioning the template's disks,
converting a VM to a template, installs sharing its disks copy-on-write
(copy=true: full copies), vm-clone, vm-copy, template-param-* and
template-uninstall, and the built-in templates that stay."""
import json
import os
import subprocess

import pytest

from test_storage import local_sr, vdi_file, vdis


def drives(xvm, vm):
    return {r["userdevice"]: r for r in xvm.records("vbd-list", f"VM={vm}", "params=all")}


def chain_root(path):
    out = subprocess.run(["qemu-img", "info", "-U", "--backing-chain", "--output=json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)[-1]["filename"]


def qemu_io(path, command):
    return subprocess.run(["qemu-io", "-f", "qcow2", "-c", command, str(path)], capture_output=True, text=True)


def write(path, pattern):
    p = qemu_io(path, f"write -P {pattern:#x} 0 1M")
    assert p.returncode == 0, p.stderr


def reads(path, pattern):
    p = qemu_io(path, f"read -P {pattern:#x} 0 1M")
    return p.returncode == 0 and "Pattern verification failed" not in p.stdout


def test_install_provisions_disk_and_cd(xvm, tmp_path):
    uuid = xvm.install("inst", template="Other install media")
    d = drives(xvm, uuid)
    assert sorted(d) == ["0", "3"]
    assert d["3"]["type"] == "CD" and d["3"]["empty"] is True
    assert xvm.ok("vdi-param-get", f"uuid={d['0']['VDI']}", "param-name=virtual-size") == str(8 << 30)
    assert xvm.ok("vdi-param-get", f"uuid={d['0']['VDI']}", "param-name=SR") == local_sr(xvm)
    other = xvm.ok("sr-create", "name-label=second", "type=file", f"device-config:location={tmp_path / 's'}")
    u2 = xvm.ok("vm-install", "template=Debian Bookworm 12", "new-name-label=deb", f"sr-uuid={other}")
    vdi = drives(xvm, u2)["0"]["VDI"]
    assert xvm.ok("vdi-param-get", f"uuid={vdi}", "param-name=SR") == other
    assert xvm.ok("vdi-param-get", f"uuid={vdi}", "param-name=name-label") == "Debian Bookworm 12 system disk"


def test_the_test_guest_template_copies_its_image(xvm):
    image = os.environ["XVM_TEST_GUEST_IMG"]
    vm = xvm.install("tg", template="xvm test guest")
    d = drives(xvm, vm)
    assert sorted(d) == ["0"] and d["0"]["bootable"] is True
    p = subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", image, str(vdi_file(xvm, d["0"]["VDI"]))],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert xvm.ok("vdi-param-get", f"uuid={d['0']['VDI']}", "param-name=virtual-size") == str(os.path.getsize(image))


@pytest.mark.local_only("the image directory is the engine's setting: xvmd's environment is not the CLI's")
def test_a_missing_template_image_fails_cleanly(xvm, tmp_path):
    before = xvm.snapshot(), vdis(xvm)
    err = xvm.fails(1, "vm-install", "template=xvm test guest", "new-name-label=x",
                    env={"XVM_TEMPLATE_IMAGE_DIR": str(tmp_path)})
    assert "INVALID_VALUE" in err and f"{tmp_path}/guest.img" in err, err
    assert (xvm.snapshot(), vdis(xvm)) == before


def test_unknown_template_and_bad_options(xvm):
    before = xvm.snapshot(), vdis(xvm)
    assert "UNKNOWN_TEMPLATE" in xvm.fails(1, "vm-install", "template=no such thing", "new-name-label=x")
    assert "copy= takes true or false" in xvm.fails(2, "vm-install", "template=sim test", "new-name-label=x",
                                                   "copy=perhaps")
    assert "HANDLE_INVALID" in xvm.fails(1, "vm-install", "template=Other install media", "new-name-label=x",
                                         "sr-uuid=00000000-0000-4000-8000-000000000000")
    assert (xvm.snapshot(), vdis(xvm)) == before


def test_convert_to_template_and_install_two(xvm):
    vm = xvm.install("golden")
    vdi = xvm.ok("vm-disk-add", "vm=golden", "disk-size=64MiB")
    base = vdi_file(xvm, vdi)
    write(base, 0x11)
    xvm.ok("vm-start", "vm=golden")
    assert "VM_BAD_POWER_STATE" in xvm.fails(1, "vm-param-set", f"uuid={vm}", "is-a-template=true")
    xvm.ok("vm-shutdown", "vm=golden", "--force")
    xvm.ok("vm-param-set", f"uuid={vm}", "is-a-template=true")
    assert vm in xvm.ok("template-list", "--minimal").split(",")
    assert vm not in xvm.ok("vm-list", "--minimal").split(",")
    xvm.fails(1, "vm-start", f"uuid={vm}")   # vm-start does not pick templates; VM.start says VM_IS_TEMPLATE
    a = xvm.ok("vm-install", f"template={vm}", "new-name-label=a")
    b = xvm.ok("vm-install", "template=golden", "new-name-label=b")
    fa, fb = (vdi_file(xvm, drives(xvm, v)["0"]["VDI"]) for v in (a, b))
    assert fa != fb and chain_root(fa) == chain_root(fb)
    write(fa, 0x5a)
    assert reads(fa, 0x5a) and reads(fb, 0x11) and not reads(fb, 0x5a)
    # copy=true: a full copy, no backing file
    c = xvm.ok("vm-install", "template=golden", "new-name-label=c", "copy=true")
    fc = vdi_file(xvm, drives(xvm, c)["0"]["VDI"])
    assert chain_root(fc) == str(fc) and reads(fc, 0x11)


def test_vm_clone_and_copy(xvm, tmp_path):
    xvm.install("src")
    vdi = xvm.ok("vm-disk-add", "vm=src", "disk-size=16MiB")
    write(vdi_file(xvm, vdi), 0x22)
    other = xvm.ok("sr-create", "name-label=second", "type=file", f"device-config:location={tmp_path / 's'}")
    c = xvm.ok("vm-clone", "vm=src", "new-name-label=cloned")
    k = xvm.ok("vm-copy", "vm=src", "new-name-label=copied", f"sr-uuid={other}")
    assert xvm.get(c, "name-label") == "cloned" and xvm.get(c, "is-a-template") == "false"
    kvdi = drives(xvm, k)["0"]["VDI"]
    assert xvm.ok("vdi-param-get", f"uuid={kvdi}", "param-name=SR") == other
    loc = xvm.ok("vdi-param-get", f"uuid={kvdi}", "param-name=location")
    assert reads(tmp_path / "s" / loc, 0x22)
    assert reads(vdi_file(xvm, drives(xvm, c)["0"]["VDI"]), 0x22)


def test_template_params_and_uninstall(xvm):
    t = xvm.ok("template-list", "name-label=Windows 11", "--minimal")
    rec = xvm.ok("template-param-get", f"uuid={t}", "param-name=recommendations")
    assert 'field="vcpus-max"' in rec and 'field="memory-static-min"' in rec
    assert xvm.ok("template-param-get", f"uuid={t}", "param-name=HVM-boot-params", "param-key=firmware") == "uefi"
    assert "VM_IS_TEMPLATE" in xvm.fails(1, "template-uninstall", f"template-uuid={t}")
    assert "VM_IS_TEMPLATE" in xvm.fails(1, "template-param-set", f"uuid={t}", "is-a-template=false")
    vm = xvm.install("mine")
    xvm.ok("vm-disk-add", "vm=mine", "disk-size=16MiB")
    xvm.ok("vm-param-set", f"uuid={vm}", "is-a-template=true")
    xvm.ok("template-param-set", f"uuid={vm}", "name-description=my template")
    assert xvm.ok("template-param-get", f"uuid={vm}", "param-name=name-description") == "my template"
    n = len(vdis(xvm))
    xvm.ok("template-uninstall", f"template-uuid={vm}")
    assert vm not in xvm.ok("template-list", "--minimal").split(",")
    assert len(vdis(xvm)) == n - 1


@pytest.mark.local_only("the template directory is the CLI process's own (XVM_TEMPLATE_DIR)")
def test_bad_template_file_names_file_and_line(xvm, tmp_path):
    d = tmp_path / "templates"
    d.mkdir()
    (d / "bad.yaml").write_text("uuid: 11111111-1111-4111-8111-111111111111\nname_label: x\n"
                                "disks:\n  - size: 8GiB\n  - bootable: true\n")
    err = xvm.fails(1, "template-list", env={"XVM_TEMPLATE_DIR": str(d)})
    assert f"{d / 'bad.yaml'}:5:" in err and "'size' is missing" in err
    (d / "bad.yaml").write_text("uuid: 11111111-1111-4111-8111-111111111111\nname_label: x\ncd: sometimes\n")
    err = xvm.fails(1, "template-list", env={"XVM_TEMPLATE_DIR": str(d)})
    assert f"{d / 'bad.yaml'}:3:" in err and "cd takes true or false" in err


def test_platform_flags_are_checked_at_start(xvm):
    w = xvm.ok("vm-install", "template=Windows 11", "new-name-label=w11")
    assert xvm.get(w, "platform", "secureboot") == "true" and xvm.get(w, "platform", "viridian") == "true"
    xvm.ok("vm-start", "vm=w11")
    xvm.ok("vm-shutdown", "vm=w11", "--force")
    xvm.ok("vm-param-set", f"uuid={w}", "HVM-boot-params:firmware=bios")
    err = xvm.fails(1, "vm-start", "vm=w11")
    assert "VALUE_NOT_SUPPORTED" in err and "secure boot needs" in err
    xvm.ok("vm-param-set", f"uuid={w}", "HVM-boot-params:firmware=uefi", "platform:viridian=perhaps")
    err = xvm.fails(1, "vm-start", "vm=w11")
    assert "VALUE_NOT_SUPPORTED" in err and "platform:viridian" in err
