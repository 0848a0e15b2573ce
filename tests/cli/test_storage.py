# SPDX-License-Identifier: LGPL-2.1-or-later
"""The storage commands: sr-*, pbd-*, vdi-* and vbd-* on sim:// state dirs (the file SR is real)."""
import os
import subprocess

import pytest


def local_sr(xvm):
    return xvm.ok("sr-list", "name-label=Local storage", "--minimal")


def local_dir(xvm):
    return xvm.state_dir / "sr" / "local"


def vdi_file(xvm, uuid):
    location = xvm.ok("vdi-param-get", f"uuid={uuid}", "param-name=location")
    return local_dir(xvm) / location


def vdis(xvm):
    return xvm.records("vdi-list", "params=all")


def iso_library(xvm, directory, *names):
    """An iso SR on `directory` holding an ISO 9660 image per name; its uuid."""
    directory.mkdir(exist_ok=True)
    content = directory / ".content"
    content.mkdir(exist_ok=True)
    for name in names:
        subprocess.run(["genisoimage", "-quiet", "-V", name.split(".")[0].upper(), "-o", str(directory / name),
                        str(content)], check=True)
    return xvm.ok("sr-create", "name-label=ISOs", "type=iso", f"device-config:location={directory}")


def cd_uuid(xvm, name):
    return xvm.ok("cd-list", f"name-label={name}", "--minimal")


def backing_chain(path):
    out = subprocess.run(["qemu-img", "info", "--backing-chain", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("image: ")]


def unplug_plug_destroy(xvm, cls, uuid, owner):
    """Unplugs, replugs, unplugs and destroys a plugged PBD or VBD; `owner` filters its list."""
    xvm.ok(f"{cls}-unplug", f"uuid={uuid}")
    assert xvm.ok(f"{cls}-param-get", f"uuid={uuid}", "param-name=currently-attached") == "false"
    xvm.ok(f"{cls}-plug", f"uuid={uuid}")
    assert xvm.ok(f"{cls}-param-get", f"uuid={uuid}", "param-name=currently-attached") == "true"
    xvm.ok(f"{cls}-unplug", f"uuid={uuid}")
    xvm.ok(f"{cls}-destroy", f"uuid={uuid}")
    assert xvm.ok(f"{cls}-list", owner, "--minimal") == ""


def test_vdi_create_makes_an_image_of_the_size(xvm):
    sr = local_sr(xvm)
    uuid = xvm.ok("vdi-create", f"sr-uuid={sr}", "name-label=data", "virtual-size=10GiB")
    assert len(uuid) == 36
    path = vdi_file(xvm, uuid)
    assert path.exists() and path.suffix == ".qcow2"
    assert xvm.ok("vdi-param-get", f"uuid={uuid}", "param-name=virtual-size") == str(10 << 30)
    assert xvm.ok("vdi-list", "name-label=data", "--minimal") == uuid
    assert xvm.ok("vdi-param-get", f"uuid={uuid}", "param-name=SR") == sr
    raw = xvm.ok("vdi-create", f"sr-uuid={sr}", "name-label=r", "virtual-size=512MiB", "sm-config:type=raw")
    assert vdi_file(xvm, raw).suffix == ".raw" and os.path.getsize(vdi_file(xvm, raw)) == 512 << 20
    plain = xvm.ok("vdi-create", f"sr-uuid={sr}", "name-label=b", "virtual-size=1048576")
    assert xvm.ok("vdi-param-get", f"uuid={plain}", "param-name=virtual-size") == "1048576"
    assert xvm.ok("vdi-param-get", f"uuid={plain}", "param-name=sm-config", "param-key=type") == "qcow2"


@pytest.mark.local_only("the daemon has opened the state dir")
@pytest.mark.parametrize("size", ["10GB", "ten", "-1GiB", "0", "1.5GiB"])
def test_bad_sizes_are_usage_errors(xvm, size):
    err = xvm.fails(2, "vdi-create", "sr-uuid=x", "name-label=d", f"virtual-size={size}")
    assert size in err
    xvm.fails(2, "vdi-resize", "uuid=x", f"disk-size={size}")
    xvm.fails(2, "vm-disk-add", "vm=x", f"disk-size={size}")
    assert not (xvm.state_dir / "xvm.db").exists()


@pytest.mark.local_only("the daemon has opened the state dir")
def test_map_parameters_are_checked_before_connecting(xvm):
    err = xvm.fails(2, "sr-create", "name-label=s", "type=file", "device-config=/srv")
    assert "device-config:KEY=VALUE" in err
    err = xvm.fails(2, "sr-create", "name-label=s", "type=file", "colour:x=y")
    assert "unknown parameter 'colour'" in err
    xvm.fails(2, "sr-create", "name-label=s", "type=file", "shared=maybe")
    xvm.fails(2, "vbd-create", "vm-uuid=x", "mode=RX")
    assert not (xvm.state_dir / "xvm.db").exists()


def test_vdi_resize_clone_snapshot_copy(xvm, tmp_path):
    sr = local_sr(xvm)
    base = xvm.ok("vdi-create", f"sr-uuid={sr}", "name-label=base", "virtual-size=1GiB")
    xvm.ok("vdi-resize", f"uuid={base}", "disk-size=2GiB")
    assert xvm.ok("vdi-param-get", f"uuid={base}", "param-name=virtual-size") == str(2 << 30)
    clone = xvm.ok("vdi-clone", f"uuid={base}", "new-name-label=copy-on-write")
    assert xvm.ok("vdi-param-get", f"uuid={clone}", "param-name=name-label") == "copy-on-write"
    assert len(backing_chain(vdi_file(xvm, clone))) == 2        # an overlay on a shared base
    snap = xvm.ok("vdi-snapshot", f"uuid={base}")
    assert len(backing_chain(vdi_file(xvm, snap))) > 1         # the base of its source, too
    assert xvm.ok("vdi-param-get", f"uuid={snap}", "param-name=is-a-snapshot") == "true"
    assert xvm.ok("vdi-param-get", f"uuid={snap}", "param-name=snapshot-of") == base
    other = xvm.ok("sr-create", "name-label=second", "type=file", f"device-config:location={tmp_path / 'second'}")
    copy = xvm.ok("vdi-copy", f"uuid={base}", f"sr-uuid={other}")
    location = xvm.ok("vdi-param-get", f"uuid={copy}", "param-name=location")
    assert os.listdir(tmp_path / "second") == [location]
    assert len(backing_chain(tmp_path / "second" / location)) == 1   # a full, independent copy
    assert xvm.ok("vdi-param-get", f"uuid={copy}", "param-name=SR") == other
    assert xvm.ok("vdi-param-get", f"uuid={copy}", "param-name=virtual-size") == str(2 << 30)


def test_vdi_import_export_round_trip(xvm, tmp_path):
    sr = local_sr(xvm)
    image = tmp_path / "in.raw"
    image.write_bytes(os.urandom(1 << 20))
    uuid = xvm.ok("vdi-create", f"sr-uuid={sr}", "name-label=d", "virtual-size=1MiB")
    assert xvm.ok("vdi-import", f"uuid={uuid}", f"filename={image}") == ""
    out = tmp_path / "out.qcow2"
    xvm.ok("vdi-export", f"uuid={uuid}", f"filename={out}", "format=qcow2")
    assert "file format: qcow2" in subprocess.run(["qemu-img", "info", str(out)], capture_output=True,
                                                  text=True).stdout
    # into a new disk of the given size, named after the file
    new = xvm.ok("vdi-import", f"sr-uuid={sr}", f"filename={out}", "format=qcow2", "virtual-size=1MiB")
    assert xvm.ok("vdi-param-get", f"uuid={new}", "param-name=name-label") == "out.qcow2"
    back = tmp_path / "back.raw"
    xvm.ok("vdi-export", f"uuid={new}", f"filename={back}")
    assert back.read_bytes() == image.read_bytes()
    # without virtual-size=, as big as the image
    sized = xvm.ok("vdi-import", f"sr-uuid={sr}", f"filename={out}", "format=qcow2", "name-label=sized")
    assert xvm.ok("vdi-param-get", f"uuid={sized}", "param-name=virtual-size") == str(image.stat().st_size)
    # a relative file name is the caller's directory's
    xvm.ok("vdi-export", f"uuid={new}", "filename=rel.raw", cwd=tmp_path)
    assert (tmp_path / "rel.raw").read_bytes() == image.read_bytes()


def test_vdi_import_errors(xvm, tmp_path):
    sr = local_sr(xvm)
    xvm.fails(2, "vdi-import", "filename=x")                                  # neither uuid= nor sr-uuid=
    xvm.fails(2, "vdi-import", "filename=x", "uuid=a", f"sr-uuid={sr}")      # both
    xvm.fails(2, "vdi-import", "filename=x", "uuid=a", "virtual-size=1MiB")
    before = vdis(xvm)
    err = xvm.fails(1, "vdi-import", f"sr-uuid={sr}", f"filename={tmp_path / 'none'}", "virtual-size=1MiB")
    assert "IMPORT_ERROR" in err
    assert vdis(xvm) == before                     # the new disk was undone
    assert os.listdir(local_dir(xvm)) == []
    err = xvm.fails(1, "vdi-import", f"sr-uuid={sr}", f"filename={tmp_path / 'none'}")
    assert "IMPORT_ERROR" in err and vdis(xvm) == before


def test_vdi_destroy(xvm):
    sr = local_sr(xvm)
    uuid = xvm.ok("vdi-create", f"sr-uuid={sr}", "name-label=gone", "virtual-size=1MiB")
    path = vdi_file(xvm, uuid)
    xvm.ok("vdi-destroy", f"uuid={uuid}")
    assert not path.exists()
    err = xvm.fails(1, "vdi-destroy", f"uuid={uuid}")
    assert "UUID_INVALID" in err or "HANDLE_INVALID" in err


def sr_configs(xvm):
    """The SRs without their space figures, which move with the host's file system."""
    return [{k: v for k, v in rec.items() if k not in ("physical-utilisation", "physical-size")}
            for rec in xvm.records("sr-list", "params=all")]


def test_sr_create_errors(xvm, tmp_path):
    before = sr_configs(xvm)
    err = xvm.fails(1, "sr-create", "name-label=n", "type=zfs", f"device-config:location={tmp_path}")
    assert "SR_UNKNOWN_DRIVER" in err
    err = xvm.fails(1, "sr-create", "name-label=n", "type=file")
    assert "SR_BACKEND_FAILURE" in err and "location" in err
    afile = tmp_path / "afile"
    afile.write_text("")
    err = xvm.fails(1, "sr-create", "name-label=n", "type=file", f"device-config:location={afile}")
    assert "SR_BACKEND_FAILURE" in err and "not a directory" in err
    err = xvm.fails(1, "sr-create", "name-label=n", "type=file", "shared=true", f"device-config:location={tmp_path}")
    assert "INVALID_VALUE" in err and "shared" in err
    err = xvm.fails(1, "sr-create", "name-label=n", "type=iso", "content-type=disk", f"device-config:location={tmp_path}")
    assert "INVALID_VALUE" in err and "content_type" in err       # an ISO library holds CDs, not disks
    err = xvm.fails(1, "sr-create", "name-label=n", "type=file", "host-uuid=nope", f"device-config:location={tmp_path}")
    assert "UUID_INVALID" in err
    assert sr_configs(xvm) == before
    host = xvm.ok("host-list", "--minimal")
    sr = xvm.ok("sr-create", "name-label=n", "type=file", f"host-uuid={host}", f"device-config:location={tmp_path}")
    assert xvm.ok("pbd-list", f"SR={sr}", "params=host", "--minimal") == host


def test_sr_and_pbd_lifecycle(xvm, tmp_path):
    d = tmp_path / "sr2"
    sr = xvm.ok("sr-create", "name-label=second", "name-description=more room", "type=file",
                f"device-config:location={d}", "sm-config:owner=me")
    assert d.is_dir()
    rec = xvm.records("sr-list", f"uuid={sr}", "params=all")[0]
    assert rec["name-label"] == "second" and rec["name-description"] == "more room"
    assert rec["content-type"] == "user" and rec["sm-config"] == {"owner": "me"}
    xvm.ok("sr-param-set", f"uuid={sr}", "name-label=renamed")
    assert xvm.ok("sr-param-get", f"uuid={sr}", "param-name=name-label") == "renamed"
    pbd = xvm.ok("pbd-list", f"SR={sr}", "--minimal")
    assert xvm.ok("pbd-param-get", f"uuid={pbd}", "param-name=device-config", "param-key=location") == str(d)
    assert xvm.ok("pbd-param-get", f"uuid={pbd}", "param-name=currently-attached") == "true"
    vdi = xvm.ok("vdi-create", f"sr-uuid={sr}", "name-label=kept", "virtual-size=1MiB")
    unplug_plug_destroy(xvm, "pbd", pbd, f"SR={sr}")
    # forget keeps the images; introduce + pbd-create + pbd-plug finds them again
    xvm.ok("sr-forget", f"uuid={sr}")
    assert sr not in xvm.ok("sr-list", "--minimal")
    assert xvm.ok("vdi-list", "name-label=kept", "--minimal") == ""
    assert len(os.listdir(d)) == 1
    assert xvm.ok("sr-introduce", f"uuid={sr}", "name-label=back", "type=file") == sr
    host = xvm.ok("host-list", "--minimal")
    pbd = xvm.ok("pbd-create", f"host-uuid={host}", f"sr-uuid={sr}", f"device-config:location={d}")
    assert xvm.ok("pbd-param-get", f"uuid={pbd}", "param-name=currently-attached") == "false"
    xvm.ok("pbd-plug", f"uuid={pbd}")
    assert xvm.ok("vdi-list", f"SR={sr}", "--minimal") == vdi
    # an image copied in appears with sr-scan
    (d / "extra.raw").write_bytes(b"\0" * 4096)
    xvm.ok("sr-scan", f"uuid={sr}")
    assert len(xvm.ok("vdi-list", f"SR={sr}", "--minimal").split(",")) == 2
    xvm.ok("sr-destroy", f"uuid={sr}")
    assert sr not in xvm.ok("sr-list", "--minimal")
    assert not d.exists() or os.listdir(d) == []


def test_pbd_create_errors(xvm, tmp_path):
    sr = local_sr(xvm)
    host = xvm.ok("host-list", "--minimal")
    err = xvm.fails(1, "pbd-create", f"host-uuid={host}", f"sr-uuid={sr}", f"device-config:location={tmp_path}")
    assert "PBD_EXISTS" in err
    xvm.fails(2, "pbd-create", f"host-uuid={host}")


def test_vbd_create_plug_and_destroy(xvm):
    sr = local_sr(xvm)
    vm = xvm.install("vm1")
    vdi = xvm.ok("vdi-create", f"sr-uuid={sr}", "name-label=d", "virtual-size=1MiB")
    vbd = xvm.ok("vbd-create", f"vm-uuid={vm}", f"vdi-uuid={vdi}", "device=1", "bootable=true", "mode=ro")
    rec = xvm.records("vbd-list", f"uuid={vbd}", "params=all")[0]
    assert rec["VM"] == vm and rec["VDI"] == vdi and rec["userdevice"] == "1"
    assert rec["mode"] == "RO" and rec["type"] == "Disk" and rec["bootable"] is True
    err = xvm.fails(1, "vbd-create", f"vm-uuid={vm}", f"vdi-uuid={vdi}", "device=1")
    assert "DEVICE_ALREADY_EXISTS" in err
    xvm.ok("vm-start", f"uuid={vm}")
    assert xvm.ok("vbd-param-get", f"uuid={vbd}", "param-name=currently-attached") == "true"
    err = xvm.fails(1, "vbd-destroy", f"uuid={vbd}")
    assert "DEVICE_ALREADY_ATTACHED" in err
    unplug_plug_destroy(xvm, "vbd", vbd, f"VM={vm}")
    err = xvm.fails(1, "vbd-create", f"vm-uuid={vm}")      # a disk drive needs a VDI
    assert "INVALID_VALUE" in err


def test_vdi_create_fields(xvm):
    sr = local_sr(xvm)
    vdi = xvm.ok("vdi-create", f"sr-uuid={sr}", "name-label=golden", "virtual-size=1MiB", "sharable=true",
                 "type=system", "name-description=the base")
    rec = xvm.records("vdi-list", f"uuid={vdi}", "params=all")[0]
    assert rec["sharable"] is True and rec["type"] == "system" and rec["name-description"] == "the base"
    xvm.fails(2, "vdi-create", f"sr-uuid={sr}", "name-label=x", "virtual-size=1MiB", "type=nonsense")
    xvm.fails(2, "vdi-create", f"sr-uuid={sr}", "name-label=x", "virtual-size=1MiB", "sharable=perhaps")


def test_vbd_cd_insert_and_eject(xvm, tmp_path):
    iso_library(xvm, tmp_path / "isos", "disc.iso")
    vdi = cd_uuid(xvm, "disc.iso")
    vm = xvm.install("vm1")
    disk = xvm.ok("vdi-create", f"sr-uuid={local_sr(xvm)}", "name-label=disk", "virtual-size=1MiB")
    assert "VDI_IS_NOT_ISO" in xvm.fails(1, "vbd-create", f"vm-uuid={vm}", f"vdi-uuid={disk}", "type=CD")
    assert "VDI_IS_NOT_ISO" in xvm.fails(1, "vbd-create", f"vm-uuid={vm}", f"vdi-uuid={vdi}", "type=Disk")
    cd = xvm.ok("vbd-create", f"vm-uuid={vm}", "type=cd")
    assert "VDI_IS_NOT_ISO" in xvm.fails(1, "vbd-insert", f"uuid={cd}", f"vdi-uuid={disk}")
    assert xvm.ok("vbd-param-get", f"uuid={cd}", "param-name=empty") == "true"
    assert xvm.ok("vbd-param-get", f"uuid={cd}", "param-name=mode") == "ro"
    assert "VBD_IS_EMPTY" in xvm.fails(1, "vbd-eject", f"uuid={cd}")
    xvm.ok("vbd-insert", f"uuid={cd}", f"vdi-uuid={vdi}")
    assert xvm.ok("vbd-param-get", f"uuid={cd}", "param-name=VDI") == vdi
    assert "VBD_NOT_EMPTY" in xvm.fails(1, "vbd-insert", f"uuid={cd}", f"vdi-uuid={vdi}")
    xvm.ok("vbd-eject", f"uuid={cd}")
    assert xvm.ok("vbd-param-get", f"uuid={cd}", "param-name=empty") == "true"


def test_generic_lists_and_params_of_storage_classes(xvm):
    out = xvm.ok("pbd-list")
    assert "device-config (MRO): location: " in out
    assert xvm.ok("vdi-list") == "" and xvm.ok("vbd-list") == ""
    sr = local_sr(xvm)
    vdi = xvm.ok("vdi-create", f"sr-uuid={sr}", "name-label=d", "virtual-size=1MiB")
    xvm.ok("vdi-param-set", f"uuid={vdi}", "name-description=notes", "other-config:k=v")
    assert xvm.ok("vdi-param-get", f"uuid={vdi}", "param-name=other-config", "param-key=k") == "v"
    assert "name-description ( RW): notes" in xvm.ok("vdi-param-list", f"uuid={vdi}")
    err = xvm.fails(2, "vdi-param-set", f"uuid={vdi}", "virtual-size=2")
    assert "read-only" in err
    # xe's names of the references filter and show them: sr-uuid=, vm-uuid=, host-uuid=
    assert xvm.ok("vdi-list", f"sr-uuid={sr}", "--minimal") == vdi
    assert xvm.ok("vdi-list", f"sr-uuid={sr}", "params=sr-uuid", "--minimal") == sr
    assert xvm.ok("vdi-list", "sr-uuid=00000000-0000-0000-0000-000000000000", "--minimal") == ""
    host = xvm.ok("host-list", "--minimal")
    assert xvm.ok("pbd-list", f"host-uuid={host}", "params=sr-uuid", "--minimal") == sr
    vm = xvm.install("vm1")
    vbd = xvm.ok("vbd-create", f"vm-uuid={vm}", f"vdi-uuid={vdi}")
    assert xvm.ok("vbd-list", f"vm-uuid={vm}", f"vdi-uuid={vdi}", "--minimal") == vbd
