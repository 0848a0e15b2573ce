# SPDX-License-Identifier: LGPL-2.1-or-later
"""A VM's disks and CD drives: vm-disk-*, vm-cd-* and cd-list."""
import os

import pytest

from test_storage import cd_uuid, iso_library, local_dir, local_sr, vdi_file, vdis


def vbds(xvm, vm):
    return xvm.records("vbd-list", f"VM={vm}", "params=all")


def test_vm_disk_add_list_remove(xvm, tmp_path):
    vm = xvm.install("web")
    d0 = xvm.ok("vm-disk-add", "vm=web", "disk-size=1GiB")
    assert vdi_file(xvm, d0).exists()
    assert xvm.ok("vdi-param-get", f"uuid={d0}", "param-name=SR") == local_sr(xvm)   # the pool's default SR
    assert xvm.ok("vdi-param-get", f"uuid={d0}", "param-name=name-label") == "web disk"
    other = xvm.ok("sr-create", "name-label=second", "type=file", f"device-config:location={tmp_path / 's'}")
    d2 = xvm.ok("vm-disk-add", f"uuid={vm}", "disk-size=2GiB", f"sr-uuid={other}", "device=2", "name-label=data")
    assert xvm.ok("vdi-param-get", f"uuid={d2}", "param-name=SR") == other
    assert os.listdir(tmp_path / "s") == [xvm.ok("vdi-param-get", f"uuid={d2}", "param-name=location")]
    out = xvm.ok("vm-disk-list", "vm=web")
    assert out.index("Disk 0 VBD:") < out.index("Disk 0 VDI:") < out.index("Disk 2 VBD:") < out.index("Disk 2 VDI:")
    assert f"VDI ( RO): {d2}" in out and "name-label ( RW): data" in out and "virtual-size ( RO): 2147483648" in out
    listed = xvm.records("vm-disk-list", "vm=web")
    assert [r["VDI"] for r in listed] == [d0, d2] and [r["userdevice"] for r in listed] == ["0", "2"]
    assert len(xvm.ok("vm-disk-list", "vm=web", "--minimal").split(",")) == 2
    # the position is taken: nothing is left behind
    before = vdis(xvm)
    err = xvm.fails(1, "vm-disk-add", "vm=web", "disk-size=1GiB", "device=2")
    assert "DEVICE_ALREADY_EXISTS" in err
    assert vdis(xvm) == before
    xvm.ok("vm-disk-remove", "vm=web", "device=0")
    assert not vdi_file_exists(xvm, d0)
    assert [r["VDI"] for r in xvm.records("vm-disk-list", "vm=web")] == [d2]
    assert "no disk at device 5" in xvm.fails(1, "vm-disk-remove", "vm=web", "device=5")
    xvm.ok("vm-uninstall", "vm=web", "--force")      # takes the disks it owns along
    assert os.listdir(tmp_path / "s") == []


def vdi_file_exists(xvm, uuid):
    return any(f.startswith(uuid) for f in os.listdir(local_dir(xvm)))


def test_vm_disk_on_a_running_vm_is_hot_plugged(xvm):
    vm = xvm.install("web")
    d0 = xvm.ok("vm-disk-add", "vm=web", "disk-size=1GiB")
    xvm.ok("vm-start", "vm=web")
    d1 = xvm.ok("vm-disk-add", "vm=web", "disk-size=1GiB")
    attached = {r["VDI"]: r["currently-attached"] for r in vbds(xvm, vm)}
    assert attached == {d0: True, d1: True}
    # a disk a running VM uses cannot go by vdi-destroy; vm-disk-remove unplugs it first
    err = xvm.fails(1, "vdi-destroy", f"uuid={d0}")
    assert "VDI_IN_USE" in err
    assert vdi_file_exists(xvm, d0)
    xvm.ok("vm-disk-remove", "vm=web", "device=0")
    assert not vdi_file_exists(xvm, d0)
    assert [r["VDI"] for r in vbds(xvm, vm)] == [d1]
    assert xvm.power(vm) == "running"


@pytest.mark.local_only("the fault is injected into the CLI's own hypervisor handle")
def test_vm_disk_add_undoes_a_failed_hot_plug(xvm):
    vm = xvm.install("web")
    xvm.ok("vm-start", "vm=web")
    before = vdis(xvm)
    err = xvm.fails(1, "vm-disk-add", "vm=web", "disk-size=1GiB", env={"XVM_HC_FAULT": "device_attach:1:EIO"})
    assert "disk hot-plug" in err and "injected fault EIO" in err
    assert vdis(xvm) == before and vbds(xvm, vm) == []
    assert os.listdir(local_dir(xvm)) == []


def test_vm_disk_selection_errors(xvm):
    xvm.fails(2, "vm-disk-add", "disk-size=1GiB")                    # which VM?
    xvm.fails(2, "vm-disk-remove", "vm=web")                         # which device?
    assert "no VM has the UUID or name-label 'nope'" in xvm.fails(1, "vm-disk-list", "vm=nope")
    xvm.install("twin")
    xvm.install("twin")
    assert "2 VM objects" in xvm.fails(1, "vm-disk-add", "vm=twin", "disk-size=1GiB")


def test_cd_drives_empty_insert_eject_remove(xvm, tmp_path):
    vm = xvm.install("web")
    library = tmp_path / "isos"
    iso_library(xvm, library, "disc.iso")
    disc = cd_uuid(xvm, "disc.iso")
    assert "no CD drive" in xvm.fails(1, "vm-cd-insert", "vm=web", "cd-name=disc.iso")
    assert xvm.ok("vm-cd-add", "vm=web", "device=3") == ""
    cds = xvm.records("vm-cd-list", "vm=web")
    assert len(cds) == 1 and cds[0]["empty"] is True and cds[0]["userdevice"] == "3"
    assert "CD 3 VBD:" in xvm.ok("vm-cd-list", "vm=web") and "CD 3 VDI:" not in xvm.ok("vm-cd-list", "vm=web")
    assert "VBD_IS_EMPTY" in xvm.fails(1, "vm-cd-eject", "vm=web")
    xvm.ok("vm-cd-insert", "vm=web", "cd-name=disc.iso")
    out = xvm.ok("vm-cd-list", "vm=web")
    assert "CD 3 VDI:" in out and "name-label ( RW): disc.iso" in out
    assert "VBD_NOT_EMPTY" in xvm.fails(1, "vm-cd-insert", "vm=web", "cd-name=disc.iso")
    xvm.ok("vm-start", "vm=web")
    xvm.ok("vm-cd-eject", "vm=web")                 # live: the guest sees the disc go
    xvm.ok("vm-cd-insert", "vm=web", f"cd-name={disc}")
    assert xvm.records("vm-cd-list", "vm=web")[0]["VDI"] == disc
    # CD drives are IDE: one is not hot-plugged into a running VM, and nothing is left of the attempt.
    err = xvm.fails(1, "vm-cd-add", "vm=web", "cd-name=disc.iso", "device=4")
    assert "OPERATION_NOT_SUPPORTED_BY_BACKEND" in err and "hot-plugged" in err
    assert len(xvm.records("vm-cd-list", "vm=web")) == 1
    xvm.ok("vm-shutdown", "vm=web")
    xvm.ok("vm-cd-add", "vm=web", "cd-name=disc.iso", "device=4")
    xvm.ok("vm-cd-remove", "vm=web", "cd-name=disc.iso")   # both drives hold it
    assert xvm.records("vm-cd-list", "vm=web") == []
    xvm.ok("vm-cd-add", "vm=web")
    xvm.ok("vm-cd-remove", "vm=web", "device=0")
    assert xvm.records("vm-cd-list", "vm=web") == []
    assert (library / "disc.iso").exists()              # removing a drive keeps the disc
    assert "no CD drive at device 3" in xvm.fails(1, "vm-cd-remove", "vm=web", "device=3")
    xvm.fails(2, "vm-cd-remove", "vm=web")
    xvm.fails(2, "vm-cd-remove", "vm=web", "device=3", "cd-name=disc.iso")


def test_cd_list_shows_only_iso_srs(xvm):
    sr = local_sr(xvm)
    xvm.ok("vdi-create", f"sr-uuid={sr}", "name-label=disk", "virtual-size=1MiB")
    assert xvm.ok("cd-list") == ""          # the local SR holds disks, not CDs
    xvm.fails(2, "cd-list", "params=colour")


STORAGE_COMMANDS = ("sr-create", "sr-introduce", "sr-forget", "sr-destroy", "sr-scan", "sr-list", "sr-param-list",
                    "pbd-create", "pbd-list", "pbd-plug", "pbd-unplug", "pbd-destroy", "pbd-param-get",
                    "vdi-create", "vdi-destroy", "vdi-resize", "vdi-clone", "vdi-snapshot", "vdi-copy",
                    "vdi-import", "vdi-export", "vdi-list", "vdi-param-set", "vbd-create", "vbd-destroy",
                    "vbd-plug", "vbd-unplug", "vbd-list", "vbd-insert", "vbd-eject", "vm-disk-add",
                    "vm-disk-list", "vm-disk-remove", "cd-list", "vm-cd-add", "vm-cd-insert", "vm-cd-eject",
                    "vm-cd-remove", "vm-cd-list")


def test_help_lists_the_storage_commands(xvm):
    out = xvm.ok("help")
    for cmd in STORAGE_COMMANDS:
        assert cmd in out, cmd
    out = xvm.ok("help", "sr-create")
    assert "reqd params     : name-label, type" in out
    assert "device-config:KEY=VALUE, sm-config:KEY=VALUE" in out


def complete(xvm, *words):
    words = ["xvm", *words]
    return xvm.ok("--complete", str(len(words) - 1), *words).splitlines()


@pytest.mark.local_only("completion connects with the words it completes")
def test_completion_of_storage_parameters(xvm):
    assert {"sr-create", "sr-destroy", "sr-scan"} <= set(complete(xvm, "sr-"))
    c = complete(xvm, "sr-create", "")
    assert {"name-label=", "type=", "shared=", "device-config:", "sm-config:"} <= set(c)
    assert set(complete(xvm, "sr-create", "shared=")) == {"shared=true", "shared=false"}
    sr = local_sr(xvm)
    assert f"sr-uuid={sr}" in complete(xvm, "vdi-create", "sr-uuid=")
    vdi = xvm.ok("vdi-create", f"sr-uuid={sr}", "name-label=disc", "virtual-size=1MiB")
    assert complete(xvm, "vdi-destroy", "uuid=") == [f"uuid={vdi}"]
    assert complete(xvm, "vbd-create", "vdi-uuid=") == [f"vdi-uuid={vdi}"]
    assert set(complete(xvm, "vbd-create", "mode=")) == {"mode=RO", "mode=RW"}
    assert "type=CD" in complete(xvm, "vbd-create", "type=")
    assert complete(xvm, "vm-cd-insert", "cd-name=") == ["cd-name=disc"]
    assert set(complete(xvm, "vdi-export", "format=")) == {"format=raw", "format=qcow2", "format=vhd", "format=vmdk"}
    vm = xvm.install("web")
    assert complete(xvm, "vbd-create", "vm-uuid=") == [f"vm-uuid={vm}"]
    assert {"vm=web", f"vm={vm}"} <= set(complete(xvm, "vm-disk-add", "vm="))
    assert "disk-size=" in complete(xvm, "vm-disk-add", "")
