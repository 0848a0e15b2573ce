# SPDX-License-Identifier: LGPL-2.1-or-later
"""Storage through the module: SRs, PBDs, VDIs and VBDs on sim:// state
directories, where the file SR is real (qcow2 and raw images made with
qemu-img) and an iso SR holds ISO images made here with genisoimage; both
in-process and through xvmd."""
import os
import pathlib
import subprocess

import pytest

import xvm

pytestmark = pytest.mark.through_daemon

MiB = 1 << 20


def local_sr(conn):
    return conn.srs.by_name("Local storage")[0]


def image_path(state_dir, vdi):
    return state_dir / "sr" / "local" / vdi.location


def image_info(path):
    """qemu-img's view of an image: its format and its backing chain's length."""
    out = subprocess.run(["qemu-img", "info", "--backing-chain", str(path)], capture_output=True, text=True,
                         check=True).stdout
    formats = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("file format: ")]
    return formats[0], len(formats)


def iso_library(conn, directory, *names):
    """An iso SR on `directory` holding an ISO 9660 image per name."""
    content = directory / ".content"
    content.mkdir(parents=True)
    (content / "README").write_text("a test disc\n")
    for name in names:
        subprocess.run(["genisoimage", "-quiet", "-V", name.split(".")[0].upper(), "-o", str(directory / name),
                        str(content)], check=True)
    return conn.create_sr("iso", "ISOs", {"location": str(directory)})


def test_create_vdi_makes_an_image(conn, state_dir):
    sr = local_sr(conn)
    vdi = sr.create_vdi("data", 10 << 30)
    assert isinstance(vdi, xvm.VDI) and vdi.connection is conn
    assert (vdi.name_label, vdi.virtual_size, vdi.SR, vdi.sm_config["type"]) == ("data", 10 << 30, sr, "qcow2")
    assert vdi in sr.VDIs and conn.vdis.by_name("data") == [vdi]
    path = image_path(state_dir, vdi)
    assert path.suffix == ".qcow2" and image_info(path) == ("qcow2", 1)
    raw = conn.create_vdi(sr.ref, "r", 4 * MiB, format="raw")       # an SR's ref does as well
    assert raw.sm_config["type"] == "raw" and os.path.getsize(image_path(state_dir, raw)) == 4 * MiB
    assert conn.create_vdi(sr, name_label="kw", size=MiB).virtual_size == MiB
    assert set(conn.vdis) == {vdi, raw, conn.vdis.by_name("kw")[0]}


def test_create_vdi_refuses_bad_input(conn, vm):
    sr = local_sr(conn)
    with pytest.raises(xvm.InvalidValue):
        sr.create_vdi("d", MiB, format="vhd")
    with pytest.raises(xvm.InvalidValue):
        sr.create_vdi("d", 0)
    with pytest.raises(TypeError, match="sr must be an xvm.SR or a str, not xvm.VM"):
        conn.create_vdi(vm, "d", MiB)
    with pytest.raises(TypeError):
        sr.create_vdi("d", "1GiB")
    with pytest.raises(OverflowError):
        sr.create_vdi("d", 1 << 64)
    assert conn.vdis.all() == []


def test_resize_clone_snapshot_copy(conn, state_dir, tmp_path):
    base = local_sr(conn).create_vdi("base", MiB)
    base.resize(2 * MiB)
    assert base.virtual_size == 2 * MiB
    clone = base.clone()
    assert isinstance(clone, xvm.VDI) and clone != base and clone.virtual_size == 2 * MiB
    assert image_info(image_path(state_dir, clone))[1] == 2      # an overlay on a shared base
    snap = base.snapshot()
    assert snap.is_a_snapshot and snap.snapshot_of == base and snap in base.snapshots
    other = conn.create_sr("file", "second", {"location": str(tmp_path / "second")})
    copy = base.copy(other)
    assert copy.SR == other and copy.virtual_size == 2 * MiB
    assert os.listdir(tmp_path / "second") == [copy.location]
    assert image_info(tmp_path / "second" / copy.location)[1] == 1   # full and independent
    assert base.copy(other.ref).SR == other
    with pytest.raises(TypeError):
        base.copy(base)


def test_import_export_round_trip(conn, tmp_path, monkeypatch):
    data = os.urandom(MiB)
    (tmp_path / "in.raw").write_bytes(data)
    vdi = local_sr(conn).create_vdi("d", MiB)
    monkeypatch.chdir(tmp_path)                       # relative names are this process's directory's
    vdi.import_file("in.raw")
    vdi.export_file(pathlib.Path("out.qcow2"), format="qcow2")
    assert image_info(tmp_path / "out.qcow2") == ("qcow2", 1)
    back = local_sr(conn).create_vdi("back", MiB, format="raw")
    back.import_file(tmp_path / "out.qcow2", "qcow2")
    back.export_file(path=str(tmp_path / "back.raw"))
    assert (tmp_path / "back.raw").read_bytes() == data


def test_forget_and_destroy_a_vdi(conn, state_dir):
    sr = local_sr(conn)
    kept, gone = sr.create_vdi("kept", MiB), sr.create_vdi("gone", MiB)
    kept_path, gone_path = image_path(state_dir, kept), image_path(state_dir, gone)
    kept.forget()
    assert kept_path.exists() and conn.vdis.all() == [gone]
    gone.destroy()
    assert not gone_path.exists() and conn.vdis.all() == []
    with pytest.raises(xvm.HandleInvalid):
        gone.destroy()
    sr.scan()                                          # the forgotten image comes back
    assert [v.location for v in conn.vdis] == [kept_path.name]


def test_sr_and_pbd_lifecycle(conn, tmp_path):
    d = tmp_path / "sr2"
    sr = conn.create_sr("file", "second", device_config={"location": str(d)}, sm_config={"owner": "me"})
    assert isinstance(sr, xvm.SR) and d.is_dir()
    rec = sr.record()
    assert (rec["type"], rec["content_type"], rec["shared"], rec["sm_config"]) == ("file", "user", False,
                                                                                  {"owner": "me"})
    [pbd] = sr.PBDs
    assert pbd.currently_attached and pbd.device_config == {"location": str(d)} and pbd in conn.pbds
    kept = sr.create_vdi("kept", MiB).uuid
    pbd.unplug()
    assert not pbd.currently_attached
    pbd.plug()
    assert pbd.currently_attached
    pbd.unplug()
    pbd.destroy()
    assert sr.PBDs == []
    # forget keeps the images; introduce, a new PBD and plug find them again
    uuid = sr.uuid
    sr.forget()
    assert sr not in conn.srs and conn.vdis.all() == [] and len(os.listdir(d)) == 1
    back = conn.introduce_sr(uuid, "file", "back")
    assert back.uuid == uuid and back.name_label == "back" and back.PBDs == []
    pbd = conn.create_pbd(back, {"location": str(d)})
    assert isinstance(pbd, xvm.PBD) and pbd.SR == back and not pbd.currently_attached
    pbd.plug()
    assert [v.uuid for v in back.VDIs] == [kept]
    # an image copied in appears with a scan; update refreshes the figures
    (d / "extra.raw").write_bytes(b"\0" * 4096)
    back.scan()
    assert len(back.VDIs) == 2
    back.update()
    assert back.physical_size > 0 and back.physical_utilisation > 0
    back.destroy()
    assert back not in conn.srs and not d.exists()


def test_create_sr_refuses_bad_input(conn, tmp_path):
    before = conn.srs.all()
    with pytest.raises(TypeError, match="device_config must be a dict"):
        conn.create_sr("file", "n", "/srv")
    with pytest.raises(TypeError, match="sm_config must be a dict"):
        conn.create_sr("file", "n", {"location": str(tmp_path)}, sm_config=["a"])
    with pytest.raises(xvm.FieldTypeError):
        conn.create_sr("file", "n", {"location": 3})
    with pytest.raises(xvm.InvalidValue):
        conn.create_sr("file", "n", {"location": str(tmp_path)}, shared=True)
    with pytest.raises(TypeError):
        conn.create_pbd(tmp_path, {})
    assert conn.srs.all() == before


def test_disk_drives_hot_plug(conn, vm):
    vdi = local_sr(conn).create_vdi("disk", MiB)
    vbd = conn.create_vbd(vm, vdi, userdevice=1, bootable=True, mode="RO")
    assert isinstance(vbd, xvm.VBD)
    assert (vbd.VM, vbd.VDI, vbd.userdevice, vbd.type, vbd.mode, vbd.bootable) == (vm, vdi, "1", "Disk", "RO", True)
    assert vbd in vm.VBDs and vbd in vdi.VBDs and not vbd.currently_attached
    vm.start()
    assert vbd.currently_attached
    vbd.unplug()
    assert not vbd.currently_attached
    vbd.plug()
    assert vbd.currently_attached
    late = conn.create_vbd(vm.ref, local_sr(conn).create_vdi("late", MiB).ref)
    assert late.userdevice == "0" and not late.currently_attached    # autodetect: the first free position
    late.plug()
    assert late.currently_attached
    late.unplug()
    late.destroy()
    assert late not in vm.VBDs
    with pytest.raises(TypeError, match="userdevice must be a str or an int"):
        conn.create_vbd(vm, vdi, userdevice=1.5)
    with pytest.raises(TypeError, match="vdi must be an xvm.VDI or a str"):
        conn.create_vbd(vm, vm)


def test_cd_drives_take_iso_images(conn, vm, tmp_path):
    isos = iso_library(conn, tmp_path / "isos", "one.iso", "two.iso")
    assert isos.type == "iso" and isos.content_type == "iso"
    one, two = (conn.vdis.by_name(n)[0] for n in ("one.iso", "two.iso"))
    assert one.SR == isos and one.read_only
    cd = conn.create_vbd(vm, type="CD")
    assert cd.type == "CD" and cd.empty and cd.VDI is None and cd.mode == "RO"
    cd.insert(one)
    assert cd.VDI == one and not cd.empty
    vm.start()
    cd.eject()
    assert cd.empty
    cd.insert(two.ref)                              # a running guest changes discs
    assert cd.VDI == two
    # an image copied into the library shows at the next call, without a scan
    subprocess.run(["genisoimage", "-quiet", "-o", str(tmp_path / "isos" / "three.iso"),
                    str(tmp_path / "isos" / ".content")], check=True)
    assert len(conn.vdis.by_name("three.iso")) == 1
    with pytest.raises(TypeError):
        cd.insert(None)


def test_storage_help_is_useful():
    for cls, names in ((xvm.SR, ("scan", "update", "create_vdi", "forget", "destroy")),
                       (xvm.PBD, ("plug", "unplug", "destroy")),
                       (xvm.VDI, ("resize", "clone", "snapshot", "copy", "import_file", "export_file", "forget",
                                  "destroy")),
                       (xvm.VBD, ("plug", "unplug", "insert", "eject", "destroy")),
                       (xvm.Connection, ("create_sr", "introduce_sr", "create_pbd", "create_vdi", "create_vbd"))):
        for name in names:
            method = getattr(cls, name)
            assert method.__text_signature__.startswith("($self"), (cls, name)
            assert len(method.__doc__) > 60 and not method.__doc__.startswith(name), (cls, name)
    assert "format='qcow2'" in xvm.SR.create_vdi.__text_signature__
    assert "xvm.SRFull" in xvm.Connection.create_vdi.__doc__
    assert "userdevice='autodetect'" in xvm.Connection.create_vbd.__text_signature__
