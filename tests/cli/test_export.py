# SPDX-License-Identifier: LGPL-2.1-or-later
"""vm-export, template-export and vm-import: OVA files other tools read, round trips, the progress bar."""
import hashlib
import os
import pty
import subprocess
import tarfile
import xml.etree.ElementTree as ET

import pytest

from test_storage import iso_library, local_dir, vdis

OVF = "{http://schemas.dmtf.org/ovf/envelope/2}"
RASD = "{http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData}"


def qemu_io(path, fmt, cmd):
    subprocess.run(["qemu-io", "-f", fmt, "-c", cmd, str(path)], check=True, capture_output=True)


def vdi_path(xvm, vdi):
    return local_dir(xvm) / xvm.ok("vdi-param-get", f"uuid={vdi}", "param-name=location")


def disk_of(xvm, vm, device="0"):
    return next(r["VDI"] for r in xvm.records("vm-disk-list", f"uuid={vm}") if r["userdevice"] == device)


def web_vm(xvm, tmp_path):
    """A VM with 2 vCPUs, 320 MiB, a disk with known bytes and a CD drive holding an ISO."""
    vm = xvm.install("web")
    xvm.ok("vm-param-set", f"uuid={vm}", "VCPUs-max=2", "VCPUs-at-startup=2", "name-description=the web server")
    xvm.ok("vm-param-set", f"uuid={vm}", "memory-static-max=335544320", "memory-dynamic-max=335544320",
           "memory-dynamic-min=335544320")
    disk = xvm.ok("vm-disk-add", f"uuid={vm}", "disk-size=16MiB")
    qemu_io(vdi_path(xvm, disk), "qcow2", "write -P 0x6b 3M 1M")
    iso_library(xvm, tmp_path / "isos", "tools.iso")
    xvm.ok("vm-cd-add", f"uuid={vm}", "cd-name=tools.iso", "device=3")
    return vm


def test_export_writes_an_ova_other_tools_read(xvm, tmp_path):
    web_vm(xvm, tmp_path)
    ova = tmp_path / "web.ova"
    xvm.ok("vm-export", "vm=web", f"filename={ova}")
    assert sorted(os.listdir(tmp_path)) == sorted(["state", "isos", "web.ova"] + (["xvmd"] if xvm.remote else []))
    with tarfile.open(ova) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["web.ovf", "web-disk1.vmdk", "web.mf"]
        assert all(m.isfile() for m in members)
        files = {m.name: tar.extractfile(m).read() for m in members}
    root = ET.fromstring(files["web.ovf"])
    assert root.tag == OVF + "Envelope" and root.get(OVF + "version") == "2.0"
    refs = root.findall(f"{OVF}References/{OVF}File")
    assert [(f.get(OVF + "href"), int(f.get(OVF + "size"))) for f in refs] == [
        ("web-disk1.vmdk", len(files["web-disk1.vmdk"]))]
    disk = root.find(f"{OVF}DiskSection/{OVF}Disk")
    assert int(disk.get(OVF + "capacity")) == 16 << 20
    items = root.findall(f"{OVF}VirtualSystem/{OVF}VirtualHardwareSection/{OVF}Item")
    types = [int(i.find(RASD + "ResourceType").text) for i in items]
    assert sorted(types) == [3, 4, 5, 15, 17]
    cpu = next(i for i in items if i.find(RASD + "ResourceType").text == "3")
    assert cpu.find(RASD + "VirtualQuantity").text == "2"
    mem = next(i for i in items if i.find(RASD + "ResourceType").text == "4")
    assert (mem.find(RASD + "VirtualQuantity").text, mem.find(RASD + "AllocationUnits").text) == ("320", "byte * 2^20")
    assert root.find(f"{OVF}VirtualSystem/{OVF}Name").text == "web"
    manifest = files["web.mf"].decode().splitlines()
    assert manifest == [f"SHA256({n})= {hashlib.sha256(files[n]).hexdigest()}" for n in ("web.ovf", "web-disk1.vmdk")]
    (tmp_path / "d.vmdk").write_bytes(files["web-disk1.vmdk"])
    info = subprocess.run(["qemu-img", "info", str(tmp_path / "d.vmdk")], capture_output=True, text=True, check=True)
    assert "file format: vmdk" in info.stdout and "create type: streamOptimized" in info.stdout


@pytest.mark.parametrize("compress", ["false", "true"])
def test_export_import_round_trip(xvm, tmp_path, compress):
    vm = web_vm(xvm, tmp_path)
    ova = tmp_path / "web.ova"
    xvm.ok("vm-export", f"uuid={vm}", f"filename={ova}", f"compress={compress}")
    with tarfile.open(ova) as tar:
        head = tar.extractfile("web-disk1.vmdk").read(2)
    assert (head == b"\x1f\x8b") == (compress == "true")
    copy = xvm.ok("vm-import", f"filename={ova}")
    assert copy != vm
    for field in ("name-label", "name-description", "VCPUs-max", "VCPUs-at-startup", "memory-static-max",
                  "memory-static-min", "HVM-boot-params", "platform"):
        assert xvm.get(copy, field) == xvm.get(vm, field), field
    a, b = disk_of(xvm, vm), disk_of(xvm, copy)
    assert a != b
    subprocess.run(["qemu-img", "compare", "-q", str(vdi_path(xvm, a)), str(vdi_path(xvm, b))], check=True)
    cds = xvm.records("vbd-list", f"VM={copy}", "type=CD", "params=all")
    assert [(c["userdevice"], c["empty"]) for c in cds] == [("3", False)]
    assert xvm.ok("vdi-param-get", f"uuid={cds[0]['VDI']}", "param-name=name-label") == "tools.iso"
    assert not [f for f in os.listdir(xvm.state_dir) if f.startswith("import.xvm-")]


def test_template_export(xvm, tmp_path):
    tpl = xvm.ok("template-list", "name-label=sim test", "--minimal")
    ova = tmp_path / "t.ova"
    xvm.ok("template-export", f"template-uuid={tpl}", f"filename={ova}")
    copy = xvm.ok("vm-import", f"filename={ova}")
    assert xvm.get(copy, "is-a-template") == "true"
    assert xvm.get(copy, "name-label") == "sim test"


def test_bad_input_leaves_nothing(xvm, tmp_path):
    vm = web_vm(xvm, tmp_path)
    ova = tmp_path / "web.ova"
    xvm.ok("vm-export", f"uuid={vm}", f"filename={ova}")
    before = (xvm.snapshot(), vdis(xvm), sorted(os.listdir(local_dir(xvm))))
    # a disk missing from the archive
    bad = tmp_path / "bad.ova"
    with tarfile.open(ova) as src, tarfile.open(bad, "w", format=tarfile.USTAR_FORMAT) as dst:
        for m in src.getmembers():
            if m.name != "web-disk1.vmdk":
                dst.addfile(m, src.extractfile(m))
    assert "web-disk1.vmdk, which the archive does not hold" in xvm.fails(1, "vm-import", f"filename={bad}")
    # a truncated archive
    bad.write_bytes(ova.read_bytes()[:ova.stat().st_size // 2])
    err = xvm.fails(1, "vm-import", f"filename={bad}")
    assert "IMPORT_ERROR" in err and "truncated" in err
    assert "cannot read" in xvm.fails(1, "vm-import", f"filename={tmp_path / 'none.ova'}")
    assert (xvm.snapshot(), vdis(xvm), sorted(os.listdir(local_dir(xvm)))) == before
    assert not [f for f in os.listdir(xvm.state_dir) if f.startswith("import.xvm-")]
    # usage errors and a running VM
    assert "compress= takes true or false" in xvm.fails(2, "vm-export", "vm=web", f"filename={ova}", "compress=maybe")
    xvm.ok("vm-start", "vm=web")
    os.unlink(ova)
    assert "VM_BAD_POWER_STATE" in xvm.fails(1, "vm-export", "vm=web", f"filename={ova}")
    assert not ova.exists()


@pytest.mark.local_only("the terminal is the CLI's own")
def test_progress_bar_on_a_terminal(xvm, tmp_path):
    vm = xvm.install("web")
    for _ in range(3):
        xvm.ok("vm-disk-add", f"uuid={vm}", "disk-size=8MiB")
    # a qemu-img that takes its time, so that the bar has something to show
    slow = tmp_path / "slow-qemu-img"
    slow.write_text('#!/bin/sh\ncase "$1" in convert) sleep 0.7;; esac\nexec qemu-img "$@"\n')
    slow.chmod(0o755)
    env = dict(xvm.env, XVM_QEMU_IMG=str(slow))
    main, sub = pty.openpty()
    p = subprocess.run([os.environ["XVM_CLI"], "vm-export", "vm=web", f"filename={tmp_path / 'w.ova'}"], env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=sub, timeout=60)
    os.close(sub)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(main)
    assert p.returncode == 0, out
    text = out.decode()
    assert "Exporting [" in text and text.rstrip().endswith("100%"), text
    assert text.count("\r") >= 2, text
    # not a terminal: no bar
    p = subprocess.run([os.environ["XVM_CLI"], "vm-export", "vm=web", f"filename={tmp_path / 'v.ova'}"], env=xvm.env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stderr == ""
