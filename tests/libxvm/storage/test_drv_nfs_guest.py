# SPDX-License-Identifier: LGPL-2.1-or-later
"""A real guest (tests/guest's disk image, under TCG on local:///) booting
from a disk on the nfs SR: QEMU opens the image over NFS itself, and the
backing file of a clone's image by the URL its header names."""
import glob
import json
import os
import shutil
import signal
import socket
import tempfile
import time

import pytest

import xvm
from test_drv_nfs import MiB, chain, create_sr, create_vdi, url

GUEST_IMG = os.environ.get("XVM_TEST_GUEST_IMG")


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def qmp(sock_path, command):
    """One QMP command on a fresh connection: its "return"."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(sock_path)
        f = s.makefile("rwb")
        json.loads(f.readline())
        for cmd in ("qmp_capabilities", command):
            f.write(json.dumps({"execute": cmd}).encode() + b"\n")
            f.flush()
            while True:
                msg = json.loads(f.readline())
                if "return" in msg or "error" in msg:
                    break
        assert "return" in msg, msg
        return msg["return"]


def procs_naming(path):
    pids = []
    for d in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(d, "rb") as f:
                if path.encode() in f.read():
                    pids.append(int(d.split("/")[2]))
        except OSError:
            pass
    return pids


@pytest.fixture
def local(monkeypatch):
    """A Connection on local:/// (the qemu backend, TCG) in a short state dir:
    QEMU's unix sockets live under it. Nothing of it may be left running."""
    assert GUEST_IMG and os.path.exists(GUEST_IMG), "XVM_TEST_GUEST_IMG must name the built guest.img"
    monkeypatch.setenv("XVM_QEMU_ACCEL", "tcg")
    monkeypatch.delenv("XVM_HC_FAULT", raising=False)
    state = tempfile.mkdtemp(prefix="xvm-nfs-", dir="/tmp")
    try:
        with xvm.connect("local://" + state) as c:
            yield c, state
            for vm in c.vms:
                if vm.power_state != "Halted":
                    vm.hard_shutdown()
        wait_for(lambda: not procs_naming(state), 20, "the guest's processes to exit")
    finally:
        left = procs_naming(state)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(state, ignore_errors=True)
        assert not left, f"processes left behind: {left}"


def serial(state):
    text = ""
    for p in glob.glob(os.path.join(state, "run", "qemu", "*", "serial.log")):
        with open(p, errors="replace") as f:
            text += f.read()
    return text


def test_guest_boots_from_a_disk_on_nfs(local, nfs):
    conn, state = local
    sr = create_sr(conn, nfs)
    vdi = create_vdi(conn, sr, MiB)
    conn.call("VDI.import_from_file", vdi, GUEST_IMG, "raw")
    vm = conn.install("sim test", "nfs guest")
    conn.call("VBD.create", {"VM": vm.ref, "VDI": vdi, "userdevice": "0", "type": "Disk", "mode": "RW",
                             "bootable": True})
    vm.start()
    wait_for(lambda: "XVM-GUEST READY" in serial(state), 60, "the guest to boot from its disk")
    # Booted by the BIOS from the disk, not by a loader given a kernel.
    assert "XVM-GUEST CMDLINE \n" in serial(state) or "XVM-GUEST CMDLINE\n" in serial(state)

    (qmp_sock,) = glob.glob(os.path.join(state, "run", "qemu", "[0-9]*", "qmp.sock"))
    disk_url = url(conn, nfs, vdi)
    nodes = [n for n in qmp(qmp_sock, "query-named-block-nodes") if n["drv"] == "nfs"]
    assert [n["file"] for n in nodes] == [disk_url], nodes

    vm.hard_shutdown()

    # A clone boots too: QEMU follows its backing file over NFS, by URL.
    clone = conn.call("VDI.clone", vdi, {})
    vm2 = conn.install("sim test", "nfs clone")
    conn.call("VBD.create", {"VM": vm2.ref, "VDI": clone, "userdevice": "0", "type": "Disk", "mode": "RW",
                             "bootable": True})
    vm2.start()
    wait_for(lambda: "XVM-GUEST READY" in serial(state), 60, "the clone to boot")
    (qmp_sock,) = glob.glob(os.path.join(state, "run", "qemu", "[0-9]*", "qmp.sock"))
    top, base = chain(url(conn, nfs, clone))
    nodes = {n["file"] for n in qmp(qmp_sock, "query-named-block-nodes") if n["drv"] == "nfs"}
    assert nodes == {top["filename"], base["filename"]} and os.path.basename(base["filename"]).startswith("base-")
