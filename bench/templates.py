#!/usr/bin/python3
"""vm-install benchmark, on the file SR of a local:/// state dir.

A VM with one disk of 10 GiB, another with one of 50 GiB (virtual size, the
first FILL_GIB of each written with qemu-io), each converted to a template;
then VM.install from each (its disk cloned copy-on-write: median of RUNS)
against VM.install_with copy=true (a full copy of the disk) in the same run.
The copy-on-write install must stay under 100 ms and flat in size.

    bench/templates.py BUILD_DIR [RUNS] [FILL_GIB]   (default 5 runs, 1 GiB written)
"""
import os
import statistics
import sys
import tempfile
import shutil

from images import GiB, fill, timed


def disk_template(conn, sr, srdir, gib, fill_gib):
    vm = conn.call("VM.install", "sim test", f"template {gib} GiB")
    vdi = conn.call("VDI.create", {"SR": sr, "name_label": f"disk {gib}", "virtual_size": gib * GiB,
                                   "sm_config": {"type": "qcow2"}})
    conn.call("VBD.create", {"VM": vm, "VDI": vdi, "userdevice": "0", "type": "Disk", "mode": "RW",
                             "bootable": True})
    fill(os.path.join(srdir, conn.call("VDI.get_location", vdi)), fill_gib * GiB)
    os.sync()   # the written data reaches the disk before anything is timed
    conn.call("VM.set_is_a_template", vm, True)
    return vm


def main():
    build = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    fill_gib = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    sys.path.insert(0, os.path.join(build, "bindings", "python"))
    os.environ.setdefault("XVM_TEMPLATE_DIR", os.path.join(os.path.dirname(__file__), "..", "data", "templates"))
    import xvm

    tmp = tempfile.mkdtemp(prefix="xvm-bench-templates-")
    try:
        conn = xvm.connect(f"local://{tmp}/state")
        sr = next(r for r, v in conn.call("SR.get_all_records").items() if v["name_label"] == "Local storage")
        srdir = os.path.join(tmp, "state", "sr", "local")
        print(f"{'disk':>8} {'written':>8} {'vm-install ms':>14} {'copy=true ms':>13} {'ratio':>8}")
        for gib in (10, 50):
            t = disk_template(conn, sr, srdir, gib, fill_gib)
            cow = []
            for i in range(runs):
                made = []
                cow.append(timed(lambda: made.append(conn.call("VM.install", t, f"cow {gib} {i}"))))
                conn.call("VM.uninstall", made[0])
            made = []
            full = timed(lambda: made.append(conn.call("VM.install_with", t, f"full {gib}", {"copy": "true"})))
            conn.call("VM.uninstall", made[0])
            cow_ms = statistics.median(cow) * 1e3
            print(f"{gib:>4} GiB {fill_gib:>4} GiB {cow_ms:>14.1f} {full * 1e3:>13.0f} {full * 1e3 / cow_ms:>7.0f}x")
            conn.call("VM.uninstall", t)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
