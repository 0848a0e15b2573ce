# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM snapshots: vm-snapshot, vm-checkpoint, snapshot-list/param-*, snapshot-revert,
snapshot-destroy and snapshot-export-to-template, with qemu-io looking at the disks."""
import subprocess

from test_storage import vdi_file, vdis


def write(xvm, vdi, pattern):
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", f"write -P {pattern:#x} 0 64k", str(vdi_file(xvm, vdi))],
                   check=True, capture_output=True)


def reads(xvm, vdi, pattern):
    p = subprocess.run(["qemu-io", "-f", "qcow2", "-c", f"read -P {pattern:#x} 0 64k", str(vdi_file(xvm, vdi))],
                       capture_output=True, text=True)
    return p.returncode == 0 and "Pattern verification failed" not in p.stdout


def disk(xvm, vm):
    """The VDI of the VM's (or snapshot's) disk at position 0."""
    return xvm.ok("vbd-list", f"VM={vm}", "userdevice=0", "params=VDI", "--minimal")


def vm_with_disk(xvm, name="vm1"):
    vm = xvm.install(name)
    d = xvm.ok("vm-disk-add", f"vm={name}", "disk-size=8MiB")
    write(xvm, d, 0x11)
    return vm


def test_snapshot_write_revert_reads_the_old_content(xvm):
    vm = vm_with_disk(xvm)
    old = disk(xvm, vm)
    snap = xvm.ok("vm-snapshot", "vm=vm1", "new-name-label=before")
    assert xvm.ok("snapshot-list", f"snapshot-of={vm}", "--minimal") == snap
    assert xvm.ok("snapshot-param-get", f"uuid={snap}", "param-name=is-a-snapshot") == "true"
    assert xvm.ok("snapshot-param-get", f"uuid={snap}", "param-name=is-a-template") == "true"
    assert xvm.ok("snapshot-param-get", f"uuid={snap}", "param-name=snapshot-of") == vm
    assert xvm.get(vm, "snapshots") == snap
    assert "snapshot-time" in xvm.ok("snapshot-param-list", f"uuid={snap}")
    assert snap not in xvm.ok("vm-list", "--minimal"), "a snapshot is no VM of vm-list"
    write(xvm, old, 0x22)
    assert reads(xvm, disk(xvm, snap), 0x11)

    xvm.ok("snapshot-revert", f"snapshot-uuid={snap}")
    now = disk(xvm, vm)
    assert now != old and reads(xvm, now, 0x11)
    assert old not in [r["uuid"] for r in vdis(xvm)], "the old disk is destroyed"
    assert xvm.power(vm) == "halted"
    xvm.ok("vm-start", "vm=vm1")


def test_snapshot_of_a_running_vm(xvm):
    vm = vm_with_disk(xvm)
    xvm.ok("vm-start", "vm=vm1")
    snap = xvm.ok("vm-snapshot", f"uuid={vm}", "new-name-label=live")
    assert xvm.power(vm) == "running"
    assert xvm.ok("snapshot-param-get", f"uuid={snap}", "param-name=power-state") == "halted"
    write(xvm, disk(xvm, vm), 0x22)
    assert reads(xvm, disk(xvm, snap), 0x11)
    # A snapshot is a template, but template-list leaves snapshots to snapshot-list (as xe).
    assert snap not in xvm.ok("template-list", "--minimal").split(",")
    assert snap in xvm.ok("template-list", "is-a-snapshot=true", "--minimal").split(",")
    assert xvm.ok("snapshot-list", "--minimal") == snap


def test_checkpoint_then_revert_resumes_it(xvm):
    vm = vm_with_disk(xvm)
    xvm.ok("vm-start", "vm=vm1")
    xvm.ok("vm-memory-target-set", "vm=vm1", "target=100MiB")
    cp = xvm.ok("vm-checkpoint", "vm=vm1", "new-name-label=cp")
    assert xvm.power(vm) == "running"
    assert xvm.ok("snapshot-param-get", f"uuid={cp}", "param-name=power-state") == "suspended"
    xvm.ok("vm-memory-target-set", "vm=vm1", "target=80MiB")
    write(xvm, disk(xvm, vm), 0x22)
    xvm.ok("snapshot-revert", f"snapshot-uuid={cp}")
    assert xvm.power(vm) == "running"
    assert xvm.get(vm, "memory-target") == str(100 << 20), "the memory state of the checkpoint is back"
    assert reads(xvm, disk(xvm, vm), 0x11)


def test_snapshot_destroy_frees_what_it_alone_used(xvm):
    vm = vm_with_disk(xvm)
    snap = xvm.ok("vm-snapshot", "vm=vm1", "new-name-label=s")
    sd = disk(xvm, snap)
    f = vdi_file(xvm, sd)
    assert f.exists()
    xvm.ok("snapshot-destroy", f"uuid={snap}")
    assert not f.exists()
    assert sd not in [r["uuid"] for r in vdis(xvm)]
    assert xvm.ok("snapshot-list", "--minimal") == ""
    assert reads(xvm, disk(xvm, vm), 0x11), "the VM's disk stays"
    cp = xvm.ok("vm-snapshot", "vm=vm1", "new-name-label=t")
    xvm.ok("snapshot-destroy", f"snapshot-uuid={cp}")
    assert xvm.ok("snapshot-list", "--minimal") == ""


def test_export_to_template_then_install(xvm):
    vm_with_disk(xvm)
    snap = xvm.ok("vm-snapshot", "vm=vm1", "new-name-label=s")
    tpl = xvm.ok("snapshot-export-to-template", f"snapshot-uuid={snap}", "new-name-label=golden")
    assert tpl in xvm.ok("template-list", "--minimal").split(",")
    assert xvm.ok("vm-param-get", f"uuid={tpl}", "param-name=is-a-snapshot") == "false"
    vm2 = xvm.install("vm2", template="golden")
    xvm.ok("snapshot-destroy", f"uuid={snap}")
    assert reads(xvm, disk(xvm, tpl), 0x11)
    assert xvm.power(vm2) == "halted"


def test_refusals_change_nothing(xvm):
    vm = vm_with_disk(xvm)
    before = xvm.snapshot()
    err = xvm.fails(1, "snapshot-revert", f"snapshot-uuid={vm}")
    assert "OPERATION_NOT_ALLOWED" in err and "not a snapshot" in err
    assert "VM_IS_TEMPLATE" in xvm.fails(1, "vm-snapshot", "vm=sim test", "new-name-label=x")
    err = xvm.fails(1, "vm-checkpoint", "vm=vm1", "new-name-label=x")
    assert "VM_BAD_POWER_STATE" in err and "halted" in err
    xvm.fails(2, "snapshot-destroy")
    xvm.fails(2, "vm-snapshot", "vm=vm1")
    assert xvm.snapshot() == before
    assert xvm.ok("snapshot-list", "--minimal") == ""


def test_help_lists_the_snapshot_commands(xvm):
    out = xvm.ok("help")
    for c in ["vm-snapshot", "vm-checkpoint", "snapshot-list", "snapshot-param-list", "snapshot-revert",
              "snapshot-destroy", "snapshot-export-to-template"]:
        assert c in out
