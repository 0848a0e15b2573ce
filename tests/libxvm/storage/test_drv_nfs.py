# SPDX-License-Identifier: LGPL-2.1-or-later
"""The nfs SR (libxvm/storage/drv_nfs.c, imagedir_nfs.c) against a real
NFSv3 server, ganesha, in the test's own network namespace: what the SR does
shows in the exported directory, and qemu-img reads it back over nfs://."""
import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest

import xvm
from nfs_server import NfsServer

MiB = 1 << 20


def create_sr(conn, nfs, shared=True, **extra):
    dc = {"server": nfs.host, "serverpath": nfs.export, **extra}
    return conn.call("SR.create", "OpaqueRef:NULL", dc, "0", "NFS SR", "", "nfs", "", shared, {})


def record(conn, cls, ref):
    return conn.call(f"{cls}.get_record", ref)


def sr_dir(conn, nfs, sr):
    return Path(nfs.export) / record(conn, "SR", sr)["uuid"]


def create_vdi(conn, sr, size=64 * MiB, fmt="qcow2", name="disk"):
    return conn.call("VDI.create", {"SR": sr, "name_label": name, "virtual_size": size, "type": "user",
                                    "sm_config": {"type": fmt}})


def url(conn, nfs, vdi):
    """The VDI's image as qemu-img and QEMU open it."""
    rec = record(conn, "VDI", vdi)
    sr_uuid = record(conn, "SR", rec["SR"])["uuid"]
    return f"nfs://{nfs.host}{quote(nfs.export)}/{sr_uuid}/{rec['location']}"


def chain(path):
    """qemu-img's view of an image and its backing files, top first."""
    out = subprocess.run(["qemu-img", "info", "--backing-chain", "--output=json", path], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return json.loads(out)


def images(d):
    return sorted(p.name for p in d.iterdir())


def test_create_makes_the_sr_directory(conn, nfs):
    sr = create_sr(conn, nfs)
    rec = record(conn, "SR", sr)
    assert rec["type"] == "nfs" and rec["shared"] and rec["content_type"] == "user"
    d = sr_dir(conn, nfs, sr)
    assert d.is_dir() and images(d) == []
    # The export's own size, as statvfs over NFS reports it.
    st = os.statvfs(nfs.export)
    assert int(rec["physical_size"]) == st.f_blocks * st.f_frsize
    (pbd,) = rec["PBDs"]
    pbd_rec = record(conn, "PBD", pbd)
    assert pbd_rec["currently_attached"]
    assert pbd_rec["device_config"] == {"server": nfs.host, "serverpath": nfs.export}


def test_nfsversion_3_and_a_trailing_slash(conn, nfs):
    dc = {"server": nfs.host, "serverpath": nfs.export + "/", "nfsversion": "3"}
    sr = conn.call("SR.create", "OpaqueRef:NULL", dc, "0", "NFS SR", "", "nfs", "", True, {})
    vdi = create_vdi(conn, sr)
    assert url(conn, nfs, vdi).startswith(f"nfs://{nfs.host}{nfs.export}/")
    assert chain(url(conn, nfs, vdi))[0]["virtual-size"] == 64 * MiB


def test_vdi_create_clone_snapshot_destroy(conn, nfs):
    sr = create_sr(conn, nfs)
    d = sr_dir(conn, nfs, sr)
    vdi = create_vdi(conn, sr, 96 * MiB)
    loc = record(conn, "VDI", vdi)["location"]
    assert images(d) == [loc] and loc.endswith(".qcow2")
    info = chain(url(conn, nfs, vdi))
    assert len(info) == 1 and info[0]["virtual-size"] == 96 * MiB and info[0]["format"] == "qcow2"

    clone = conn.call("VDI.clone", vdi, {})
    snap = conn.call("VDI.snapshot", vdi, {})
    assert record(conn, "VDI", snap)["snapshot_of"] == vdi
    leaves = {record(conn, "VDI", v)["location"] for v in (vdi, clone, snap)}
    bases = [n for n in images(d) if n.startswith("base-")]
    assert set(images(d)) == leaves | set(bases) and len(bases) == 2
    # The chains open over NFS: the source sits on both bases, each named by its URL.
    src_chain = chain(url(conn, nfs, vdi))
    assert sorted(Path(i["filename"]).name for i in src_chain[1:]) == sorted(bases)
    assert all(i["filename"].startswith(f"nfs://{nfs.host}{nfs.export}/") for i in src_chain)
    # The clone sits on the first base; the snapshot, taken after, on both.
    assert len(chain(url(conn, nfs, clone))) == 2 and len(chain(url(conn, nfs, snap))) == 3
    assert all(i["virtual-size"] == 96 * MiB for i in src_chain)

    for v in (snap, clone, vdi):
        gone = record(conn, "VDI", v)["location"]
        conn.call("VDI.destroy", v)
        assert gone not in images(d)
    # With every leaf gone, no base is left either.
    assert images(d) == []


def test_raw_vdi_and_resize(conn, nfs):
    sr = create_sr(conn, nfs)
    vdi = create_vdi(conn, sr, 8 * MiB, fmt="raw")
    path = Path(sr_dir(conn, nfs, sr)) / record(conn, "VDI", vdi)["location"]
    assert path.name.endswith(".raw") and path.stat().st_size == 8 * MiB
    conn.call("VDI.resize", vdi, 16 * MiB)
    assert path.stat().st_size == 16 * MiB
    assert int(record(conn, "VDI", vdi)["virtual_size"]) == 16 * MiB
    # A raw disk's clone: the raw content becomes a base under two qcow2 leaves.
    clone = conn.call("VDI.clone", vdi, {})
    assert record(conn, "VDI", vdi)["location"].endswith(".qcow2")
    assert chain(url(conn, nfs, clone))[1]["format"] == "raw"


def test_import_and_export(conn, nfs, tmp_path):
    src = tmp_path / "src.raw"
    data = bytearray(4 * MiB)
    for i in range(0, len(data), 4096):
        data[i:i + 16] = f"block {i // 4096:10d}".encode()
    src.write_bytes(bytes(data))
    sr = create_sr(conn, nfs)
    vdi = create_vdi(conn, sr, 4 * MiB)
    conn.call("VDI.import_from_file", vdi, str(src), "raw")
    out = tmp_path / "out.raw"
    conn.call("VDI.export_to_file", vdi, str(out), "raw")
    assert out.read_bytes() == bytes(data)
    # What landed on the server is the same content, read over NFS.
    subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", str(src), url(conn, nfs, vdi)],
                   check=True, timeout=60)
    # An exported qcow2 keeps the content too, and a snapshot exports its own point in time.
    snap = conn.call("VDI.snapshot", vdi, {})
    conn.call("VDI.import_from_file", vdi, str(tmp_path / "out.raw"), "raw")
    conn.call("VDI.export_to_file", snap, str(tmp_path / "snap.qcow2"), "qcow2")
    subprocess.run(["qemu-img", "compare", "-F", "qcow2", str(src), str(tmp_path / "snap.qcow2")], check=True,
                   timeout=60)


def test_vdi_copy_between_nfs_srs(conn, nfs, tmp_path):
    a = create_sr(conn, nfs)
    b = create_sr(conn, nfs)
    src = tmp_path / "src.raw"
    src.write_bytes(b"xvm-nfs" * (MiB // 7) + b"\0" * (MiB % 7))
    vdi = create_vdi(conn, a, MiB)
    conn.call("VDI.import_from_file", vdi, str(src), "raw")
    copy = conn.call("VDI.copy", vdi, b)
    assert record(conn, "VDI", copy)["SR"] == b
    subprocess.run(["qemu-img", "compare", "-f", "raw", str(src), url(conn, nfs, copy)], check=True, timeout=60)


def test_scan_introduces_a_file_placed_in_the_export(conn, nfs):
    sr = create_sr(conn, nfs)
    d = sr_dir(conn, nfs, sr)
    # Another host (here: the server's own file system) puts an image there.
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(d / "placed.qcow2"), str(32 * MiB)],
                   check=True, timeout=60)
    (d / "notes.txt").write_text("not an image")
    conn.call("SR.scan", sr)
    vdis = [record(conn, "VDI", v) for v in record(conn, "SR", sr)["VDIs"]]
    (placed,) = [v for v in vdis if v["location"] == "placed.qcow2"]
    assert int(placed["virtual_size"]) == 32 * MiB and not placed["missing"]
    assert len(vdis) == 1
    # And one that vanishes is marked missing.
    (d / "placed.qcow2").unlink()
    conn.call("SR.scan", sr)
    assert record(conn, "VDI", conn.call("VDI.get_by_uuid", placed["uuid"]))["missing"]


def test_pbd_unplug_and_plug(conn, nfs):
    sr = create_sr(conn, nfs)
    vdi = create_vdi(conn, sr)
    (pbd,) = record(conn, "SR", sr)["PBDs"]
    conn.call("PBD.unplug", pbd)
    assert not record(conn, "PBD", pbd)["currently_attached"]
    with pytest.raises(xvm.SRHasNoPbds):
        create_vdi(conn, sr)
    conn.call("PBD.plug", pbd)
    assert record(conn, "PBD", pbd)["currently_attached"]
    assert [record(conn, "VDI", v)["uuid"] for v in record(conn, "SR", sr)["VDIs"]] == \
        [record(conn, "VDI", vdi)["uuid"]]
    create_vdi(conn, sr)


def test_unplug_and_forget_need_no_server(conn, nfs):
    sr = create_sr(conn, nfs)
    (pbd,) = record(conn, "SR", sr)["PBDs"]
    nfs.stop()
    start = time.monotonic()
    conn.call("PBD.unplug", pbd)
    conn.call("SR.forget", sr)
    assert time.monotonic() - start < 2
    assert sr not in conn.call("SR.get_all")


def test_destroy_removes_the_directory(conn, nfs):
    sr = create_sr(conn, nfs)
    d = sr_dir(conn, nfs, sr)
    v = create_vdi(conn, sr)
    conn.call("VDI.clone", v, {})
    assert len(images(d)) == 3
    conn.call("SR.destroy", sr)
    assert not d.exists()
    assert sr not in conn.call("SR.get_all")
    assert os.listdir(nfs.export) == []


def test_destroy_keeps_what_the_user_put_there(conn, nfs):
    sr = create_sr(conn, nfs)
    d = sr_dir(conn, nfs, sr)
    create_vdi(conn, sr)
    (d / "README").write_text("mine")
    conn.call("SR.destroy", sr)
    assert images(d) == ["README"]


def test_introduce_adopts_an_existing_directory(conn, nfs):
    sr = create_sr(conn, nfs)
    d = sr_dir(conn, nfs, sr)
    create_vdi(conn, sr)
    uuid = record(conn, "SR", sr)["uuid"]
    conn.call("SR.forget", sr)
    # sr-introduce with the same UUID and a PBD adopts it instead.
    sr2 = conn.call("SR.introduce", uuid, "again", "", "nfs", "user", True, {})
    pbd = conn.call("PBD.create", {"host": conn.call("host.get_all")[0], "SR": sr2,
                                   "device_config": {"server": nfs.host, "serverpath": nfs.export}})
    conn.call("PBD.plug", pbd)
    assert len(record(conn, "SR", sr2)["VDIs"]) == 1
    assert len(images(d)) == 1


@pytest.mark.parametrize("dc, key", [
    ({"serverpath": "/x"}, "server"),
    ({"server": "127.0.0.1"}, "serverpath"),
    ({"server": "127.0.0.1", "serverpath": "x/y"}, "serverpath"),
    ({"server": "127.0.0.1", "serverpath": "/x", "location": "/y"}, "location"),
    ({"server": "127.0.0.1", "serverpath": "/x", "nfsversion": "4"}, "nfsversion"),
    ({"server": "[::1]", "serverpath": "/x"}, "server"),
    ({"server": "a b", "serverpath": "/x"}, "server"),
    ({"server": "127.0.0.1", "serverpath": "/" + "p" * 200}, "serverpath"),
])
def test_bad_config(conn, nfs, dc, key):
    before = conn.call("SR.get_all")
    with pytest.raises(xvm.SRBackendFailure) as ei:
        conn.call("SR.create", "OpaqueRef:NULL", dc, "0", "bad", "", "nfs", "", True, {})
    assert ei.value.params[0] in ("device_config", key) and key in str(ei.value)
    assert conn.call("SR.get_all") == before and os.listdir(nfs.export) == []


def test_serverpath_that_is_not_exported(conn, nfs):
    start = time.monotonic()
    with pytest.raises(xvm.SRBackendFailure) as ei:
        conn.call("SR.create", "OpaqueRef:NULL", {"server": nfs.host, "serverpath": "/not/exported"}, "0",
                  "x", "", "nfs", "", True, {})
    assert time.monotonic() - start < 5
    assert "cannot reach the NFS export 127.0.0.1:/not/exported" in str(ei.value)
    assert "MNT3ERR" in str(ei.value) or "mount" in str(ei.value).lower()


def test_server_not_running(conn, tmp_path):
    # Nothing listens on the namespace's loopback: no portmapper, no server.
    start = time.monotonic()
    with pytest.raises(xvm.SRBackendFailure) as ei:
        conn.call("SR.create", "OpaqueRef:NULL", {"server": "127.0.0.1", "serverpath": str(tmp_path)}, "0",
                  "x", "", "nfs", "", True, {})
    assert time.monotonic() - start < 5
    msg = str(ei.value)
    assert f"cannot reach the NFS export 127.0.0.1:{tmp_path}" in msg and "refused" in msg.lower()
    assert all(record(conn, "SR", s)["type"] != "nfs" for s in conn.call("SR.get_all"))


def test_server_that_stops_answering(conn, nfs):
    sr = create_sr(conn, nfs)
    vdi = create_vdi(conn, sr)
    (pbd,) = record(conn, "SR", sr)["PBDs"]
    nfs.pause()
    try:
        for call in (lambda: create_vdi(conn, sr), lambda: conn.call("VDI.clone", vdi, {}),
                     lambda: conn.call("SR.scan", sr)):
            start = time.monotonic()
            with pytest.raises(xvm.SRBackendFailure) as ei:
                call()
            took = time.monotonic() - start
            assert took < 12, took
            assert "cannot reach the NFS export" in str(ei.value)
        conn.call("PBD.unplug", pbd)
        start = time.monotonic()
        with pytest.raises(xvm.SRBackendFailure):
            conn.call("PBD.plug", pbd)
        assert time.monotonic() - start < 12
        assert not record(conn, "PBD", pbd)["currently_attached"]
    finally:
        nfs.resume()
    conn.call("PBD.plug", pbd)
    assert len(record(conn, "SR", sr)["VDIs"]) == 1


def test_plug_fails_when_the_directory_is_gone(conn, nfs):
    sr = create_sr(conn, nfs)
    (pbd,) = record(conn, "SR", sr)["PBDs"]
    conn.call("PBD.unplug", pbd)
    d = sr_dir(conn, nfs, sr)
    d.rmdir()
    with pytest.raises(xvm.SRBackendFailure) as ei:
        conn.call("PBD.plug", pbd)
    assert f"cannot find {d.name} on the NFS export {nfs.host}:{nfs.export}" in str(ei.value)
    assert not record(conn, "PBD", pbd)["currently_attached"]


def test_export_path_that_needs_escaping_in_urls(conn, tmp_path):
    # A path QEMU's URL parser must see %-escaped: a space, a '#', a '%'.
    server = NfsServer(tmp_path / "odd #1 100%").start()
    try:
        sr = create_sr(conn, server)
        vdi = create_vdi(conn, sr, 2 * MiB)
        u = url(conn, server, vdi)
        assert "/odd%20%231%20100%25/" in u and chain(u)[0]["virtual-size"] == 2 * MiB
        clone = conn.call("VDI.clone", vdi, {})
        (top, base) = chain(url(conn, server, clone))
        # The header names the base by its escaped URL, which QEMU opens.
        assert top["backing-filename"].startswith(f"nfs://{server.host}{quote(server.export)}/")
        assert base["virtual-size"] == 2 * MiB
        conn.call("SR.destroy", sr)
        assert os.listdir(server.export) == []
    finally:
        server.stop()


def test_sizes(conn, nfs):
    sr = create_sr(conn, nfs)
    vdi = create_vdi(conn, sr, 8 * MiB, fmt="raw")
    path = sr_dir(conn, nfs, sr) / record(conn, "VDI", vdi)["location"]
    with open(path, "r+b") as f:
        f.write(b"\1" * MiB)
        os.fsync(f.fileno())
    conn.call("SR.scan", sr)
    # What the server says the file takes, as the kernel says it for the file itself.
    assert int(record(conn, "VDI", vdi)["physical_utilisation"]) == path.stat().st_blocks * 512
    conn.call("SR.update", sr)
    st = os.statvfs(nfs.export)
    # The file system is the host's, which other writers share: near, not equal.
    used = (st.f_blocks - st.f_bavail) * st.f_frsize
    assert abs(int(record(conn, "SR", sr)["physical_utilisation"]) - used) < 256 * MiB
