# SPDX-License-Identifier: LGPL-2.1-or-later
"""Storage on real guests: disks hot-plugged into a running Linux and grown
under it, discs changed in its CD drive, the test guest booted by the
firmware from an xvm disk, and a live snapshot of a disk in use.

Storage goes through the Python module (conn.call, on the same local://
state dir as the CLI), the VM lifecycle and the console through the CLI.
The Linux guest is Debian's kernel with the storage initramfs, booted with
xvm.watch=storage: it prints a DISKS and a CD line (tests/linux/init.sh)
whenever what it sees changes."""
import json
import os
import re
import subprocess
import time

import pytest
import xvm as xvmpy

from conftest import LINUX_CMDLINE, LINUX_POWEROFF, LINUX_READY, READY, MiB, POWEROFF, qmp_query

STORAGE_KERNEL = os.environ.get("XVM_TEST_STORAGE_KERNEL")
STORAGE_INITRD = os.environ.get("XVM_TEST_STORAGE_INITRD")
GUEST_IMG = os.environ.get("XVM_TEST_GUEST_IMG")
BOOT_TIMEOUT = 150      # ~15-30 s under TCG on a loaded host
SECTOR = 512

DISKS = re.compile(r"XVM-LINUX DISKS((?: \S+=\S+)*)$")
CD = re.compile(r"XVM-LINUX CD((?: \S+=\S+)*)$")
# Empty when the boot sector loaded the guest; -kernel gives the multiboot command line.
GUEST_CMDLINE = re.compile(r"XVM-GUEST CMDLINE (?P<cmdline>.*)$")


def state(m):
    """{device: value} of a DISKS or CD line."""
    return dict(item.split("=", 1) for item in m[1].split())


def wait_state(xvm, console, pattern, wanted, timeout=60.0):
    """Reads the guest's DISKS or CD lines until one shows `wanted`
    ({device: str}, or a test of that dict); fails with the transcript and
    what QEMU makes of it when none does in time."""
    deadline = time.monotonic() + timeout
    test = wanted if callable(wanted) else wanted.__eq__
    try:
        while not test(state(console.wait(pattern, timeout=max(0.1, deadline - time.monotonic())))):
            pass
    except pytest.fail.Exception as e:
        pytest.fail(f"{e}\n{qemu_state(xvm, console.vm)}")


def qemu_state(xvm, name):
    """The VM's power state and its QEMU's run state (QMP), for failure messages."""
    uuid = xvm.ok("vm-list", f"name-label={name}", "params=uuid", "--minimal")
    try:
        status = qmp_query(qmp_socket(xvm, uuid), "query-status")
    except (OSError, AssertionError) as e:
        status = f"none to ask: {e!r}"
    return f"VM {xvm.power(uuid)} as domain {xvm.params(uuid)['domid']}, QEMU {status}"


def sectors(size):
    return str(size // SECTOR)


@pytest.fixture
def conn(xvm):
    """The Python module's connection to the xvm fixture's state dir."""
    with xvmpy.connect(xvm.uri) as c:
        yield c


def default_sr(conn):
    pool, = conn.call("pool.get_all")
    return conn.call("pool.get_default_SR", pool)


def new_disk(conn, name, size, sr=None):
    return conn.call("VDI.create", {"SR": sr or default_sr(conn), "virtual_size": size, "name_label": name,
                                    "type": "user", "sharable": False, "read_only": False})


def new_vbd(conn, vm_uuid, vdi, userdevice, kind="Disk", bootable=False):
    return conn.call("VBD.create", {"VM": conn.vms[vm_uuid].ref, "VDI": vdi, "userdevice": userdevice,
                                    "type": kind, "mode": "RO" if kind == "CD" else "RW",
                                    "bootable": bootable})


def attached(conn, vbd):
    return conn.call("VBD.get_currently_attached", vbd)


def qmp_socket(xvm, uuid):
    return os.path.join(xvm.state_dir, "run", "qemu", str(xvm.params(uuid)["domid"]), "qmp.sock")


def block_devices(xvm, uuid):
    """{device id: query-block entry} of the drives QEMU has now (QMP)."""
    # qdev: the device's id (an IDE drive), or the QOM path of the part of
    # it that has the drive (/machine/peripheral/ID/virtio-backend)
    return {b["qdev"].split("/")[3] if b["qdev"].startswith("/machine/peripheral/") else b["qdev"]: b
            for b in qmp_query(qmp_socket(xvm, uuid), "query-block") if b.get("qdev")}


def write_through_qemu(xvm, uuid, device, byte, length):
    """Writes `length` bytes of `byte` at the start of the disk in use, the
    way the guest's own writes go: through the device's block backend in
    QEMU (HMP qemu-io)."""
    out = qmp_query(qmp_socket(xvm, uuid), "human-monitor-command",
                    arguments={"command-line": f'qemu-io -d {device} "write -P {byte} 0 {length}"'})
    assert "error" not in out.lower(), out     # what it wrote it reports on QEMU's stdout, not here


def block_file(xvm, uuid, device):
    """The image file QEMU runs the guest's `device` on."""
    name = block_devices(xvm, uuid)[device]["inserted"]["image"]["filename"]
    # An image opened with options of its own is named by them: json:{"file": {"filename": ...}}
    return json.loads(name[5:])["file"]["filename"] if name.startswith("json:") else name


def storage_linux(xvm, name):
    """A halted VM that boots the storage initramfs with the drive reports on."""
    for f in (STORAGE_KERNEL, STORAGE_INITRD):
        assert f and os.path.exists(f), f"missing storage Linux fixture {f!r} (meson test sets the paths)"
    uuid = xvm.guest(name, f"PV-ramdisk={STORAGE_INITRD}", f"PV-args={LINUX_CMDLINE} xvm.watch=storage",
                     kernel=STORAGE_KERNEL)
    xvm.set_memory(uuid, "256MiB")
    return uuid


def boot(xvm, name, disks, cds=None):
    """Starts the VM and waits for the guest's first report (disks, and the
    CD drives if given) and its READY line; returns the console."""
    xvm.ok("vm-start", f"vm={name}")
    c = xvm.console(name)
    wait_state(xvm, c, DISKS, disks, BOOT_TIMEOUT)
    if cds is not None:
        # The AHCI ports are probed asynchronously: sr0 may come after READY.
        wait_state(xvm, c, CD, cds, BOOT_TIMEOUT)
    c.wait(LINUX_READY, timeout=BOOT_TIMEOUT)
    return c


def shut_down_linux(xvm, name, uuid, console):
    xvm.ok("vm-shutdown", f"vm={name}")
    assert xvm.power(uuid) == "halted"
    console.wait(LINUX_POWEROFF, timeout=10)
    assert console.ended() == 0
    xvm.assert_nothing_running()


def test_hotplug_unplug_and_online_resize_of_a_virtio_disk(xvm, conn):
    uuid = storage_linux(xvm, "st")
    c = boot(xvm, "st", {})

    vdi = new_disk(conn, "hot", 64 * MiB)
    vbd = new_vbd(conn, uuid, vdi, "7")
    assert not attached(conn, vbd)
    conn.call("VBD.plug", vbd)
    wait_state(xvm, c, DISKS, {"vda": sectors(64 * MiB)})
    assert attached(conn, vbd) and "disk7" in block_devices(xvm, uuid)

    # Position 7 is virtio-blk: QEMU grows the image and the guest hears of it.
    conn.call("VDI.resize", vdi, 128 * MiB)
    wait_state(xvm, c, DISKS, {"vda": sectors(128 * MiB)})
    assert conn.call("VDI.get_virtual_size", vdi) == 128 * MiB

    # The guest releases the device; only then is the VBD detached.
    conn.call("VBD.unplug", vbd)
    assert not attached(conn, vbd) and "disk7" not in block_devices(xvm, uuid)
    wait_state(xvm, c, DISKS, {})
    assert xvm.power(uuid) == "running"

    # Plugged again, it comes back at its new size.
    conn.call("VBD.plug", vbd)
    wait_state(xvm, c, DISKS, {"vda": sectors(128 * MiB)})
    assert attached(conn, vbd)
    shut_down_linux(xvm, "st", uuid, c)
    assert not attached(conn, vbd)


def make_iso(path, label, workdir):
    """A small ISO 9660 image of volume id `label`, written by genisoimage."""
    content = workdir / label
    content.mkdir()
    (content / "README").write_text(f"disc {label}\n")
    subprocess.run(["genisoimage", "-quiet", "-V", label, "-o", str(path), str(content)], check=True)


def iso_names(conn, sr):
    """{name_label: VDI} of the iso SR (no SR.scan: the library sees new files itself)."""
    return {conn.call("VDI.get_name_label", v): v for v in conn.call("SR.get_VDIs", sr)}


def iso_vdi(conn, sr, filename):
    names = iso_names(conn, sr)
    assert filename in names, f"no {filename} in the ISO library: {sorted(names)}"
    return names[filename]


def test_cd_insert_eject_and_a_new_iso_in_the_library(xvm, conn, tmp_path):
    library = tmp_path / "isos"
    library.mkdir()
    make_iso(library / "one.iso", "LABEL_ONE", tmp_path)
    make_iso(library / "two.iso", "LABEL_TWO", tmp_path)
    sr = conn.call("SR.create", "OpaqueRef:NULL", {"location": str(library)}, "0", "ISOs", "", "iso", "",
                   False, {})
    one, two = iso_vdi(conn, sr, "one.iso"), iso_vdi(conn, sr, "two.iso")
    assert conn.call("VDI.get_read_only", one)

    uuid = storage_linux(xvm, "cd")
    drive = new_vbd(conn, uuid, "OpaqueRef:NULL", "3", kind="CD")
    assert conn.call("VBD.get_empty", drive)
    c = boot(xvm, "cd", {}, cds={"sr0": "NONE"})
    assert attached(conn, drive)

    conn.call("VBD.insert", drive, one)
    wait_state(xvm, c, CD, {"sr0": "LABEL_ONE"})
    assert conn.call("VBD.get_VDI", drive) == one and not conn.call("VBD.get_empty", drive)

    conn.call("VBD.eject", drive)
    wait_state(xvm, c, CD, {"sr0": "NONE"})
    assert conn.call("VBD.get_empty", drive)

    conn.call("VBD.insert", drive, two)
    wait_state(xvm, c, CD, {"sr0": "LABEL_TWO"})
    conn.call("VBD.eject", drive)
    wait_state(xvm, c, CD, {"sr0": "NONE"})

    # A disc copied into the library while the VM runs is there at once,
    # also when the library is read while the copy is under way (the file is
    # no image yet: its volume descriptor, at 32 KiB, has not come).
    make_iso(tmp_path / "three.iso", "LABEL_THREE", tmp_path)
    image = (tmp_path / "three.iso").read_bytes()
    with open(library / "three.iso", "wb") as f:
        f.write(image[:16 * 1024])
        f.flush()
        assert "three.iso" not in iso_names(conn, sr)
        f.write(image[16 * 1024:])
    conn.call("VBD.insert", drive, iso_vdi(conn, sr, "three.iso"))
    wait_state(xvm, c, CD, {"sr0": "LABEL_THREE"})
    shut_down_linux(xvm, "cd", uuid, c)
    assert conn.call("VBD.get_VDI", drive) == iso_vdi(conn, sr, "three.iso")


def test_firmware_boots_the_test_guest_from_an_xvm_disk(xvm, conn):
    assert GUEST_IMG and os.path.exists(GUEST_IMG), f"missing {GUEST_IMG!r} (meson test sets it)"
    uuid = xvm.install("fw", template="Other install media")
    xvm.set_memory(uuid, "256MiB")
    # The template gave the VM its disk: the guest's image goes onto it, as an installer's would.
    vbd, = [v for v in conn.call("VM.get_VBDs", conn.vms[uuid].ref) if conn.call("VBD.get_userdevice", v) == "0"]
    vdi = conn.call("VBD.get_VDI", vbd)
    conn.call("VDI.import_from_file", vdi, GUEST_IMG, "raw")
    size = conn.call("VDI.get_virtual_size", vdi)

    # No kernel is given: SeaBIOS finds no CD and boots the disk's boot sector.
    xvm.ok("vm-start", "vm=fw")
    c = xvm.console("fw")
    assert c.wait(GUEST_CMDLINE, timeout=60)["cmdline"] == "", "the guest was not booted from its disk"
    m = c.wait(READY, timeout=10)
    assert m["memory"] == "256MiB", c.transcript()

    # Position 0 of q35 is on AHCI, which cannot grow a disk under a guest.
    with pytest.raises(xvmpy.Error) as e:
        conn.call("VDI.resize", vdi, size + (1 << 20))
    assert e.value.code == "OPERATION_NOT_SUPPORTED_BY_BACKEND", e.value
    assert conn.call("VDI.get_virtual_size", vdi) == size

    xvm.ok("vm-shutdown", "vm=fw")
    c.wait(POWEROFF, timeout=10)
    assert xvm.power(uuid) == "halted"
    xvm.assert_nothing_running()


def test_live_snapshot_of_a_disk_in_use(xvm, conn, tmp_path):
    # A disk with known content, at virtio position 6 from boot.
    pattern = b"".join(i.to_bytes(4, "little") * 128 for i in range(64 * MiB // 512))
    (tmp_path / "pattern.raw").write_bytes(pattern)
    vdi = new_disk(conn, "data", 64 * MiB)
    conn.call("VDI.import_from_file", vdi, str(tmp_path / "pattern.raw"), "raw")
    uuid = storage_linux(xvm, "snap")
    new_vbd(conn, uuid, vdi, "6")
    c = boot(xvm, "snap", {"vda": sectors(64 * MiB)})

    # Written before the snapshot: in both disks; after it: in the source only.
    written = 64 * 1024
    write_through_qemu(xvm, uuid, "disk6/virtio-backend", 0xAA, written)
    before = conn.call("VDI.get_location", vdi)
    snap = conn.call("VDI.snapshot", vdi, {})
    write_through_qemu(xvm, uuid, "disk6/virtio-backend", 0xBB, written)
    after = conn.call("VDI.get_location", vdi)
    assert after != before, "the source VDI did not move onto a new top image"
    assert conn.call("VDI.get_is_a_snapshot", snap) and conn.call("VDI.get_snapshot_of", snap) == vdi
    assert snap in conn.call("SR.get_VDIs", default_sr(conn))
    assert conn.call("VDI.get_virtual_size", snap) == 64 * MiB
    assert xvm.power(uuid) == "running"
    assert os.path.basename(block_file(xvm, uuid, "disk6")) == os.path.basename(after)

    # The guest is live on the new top: it sees that one grow, not the snapshot.
    conn.call("VDI.resize", vdi, 96 * MiB)
    wait_state(xvm, c, DISKS, {"vda": sectors(96 * MiB)})
    assert conn.call("VDI.get_virtual_size", snap) == 64 * MiB
    shut_down_linux(xvm, "snap", uuid, c)

    # Both boot again: the source at its new size, the snapshot beside it
    # (which is vda and which vdb follows the order QEMU got them in).
    new_vbd(conn, uuid, snap, "8")
    c = boot(xvm, "snap", lambda d: sorted(d.values()) == sorted([sectors(96 * MiB), sectors(64 * MiB)]))
    shut_down_linux(xvm, "snap", uuid, c)

    # Each holds what was written up to its instant, over the imported content.
    for v, size, byte in ((vdi, 96 * MiB, 0xBB), (snap, 64 * MiB, 0xAA)):
        out = tmp_path / "export.raw"
        conn.call("VDI.export_to_file", v, str(out), "raw")
        data = out.read_bytes()
        out.unlink()
        assert len(data) == size
        assert data[:written] == bytes([byte]) * written, f"{v}: {data[:16].hex()}"
        assert data[written:64 * MiB] == pattern[written:] and data[64 * MiB:] == bytes(size - 64 * MiB)
