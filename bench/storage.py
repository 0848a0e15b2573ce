#!/usr/bin/python3
"""Storage benchmark, on the file SR of a local:/// state dir:

  - VDI.clone and VDI.snapshot of a disk holding 1, 5 and 20 GiB of data
    (median of RUNS), against a full copy of the same image with
    `qemu-img convert` in the same run: copy-on-write must stay flat in size;
  - VDI.import_from_file of a raw image into a qcow2 disk, against `cp` of
    the same file (both followed by sync), as throughput.

    bench/storage.py BUILD_DIR [RUNS] [SIZES_GIB]   (default 5 runs, sizes 1,5,20)

It writes real data (qemu-io), so it needs about twice the largest size free
on the file system of the temporary directory ($TMPDIR).
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from images import GiB, fill, timed


def main():
    build = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    sizes = [int(s) for s in sys.argv[3].split(",")] if len(sys.argv) > 3 else [1, 5, 20]
    sys.path.insert(0, os.path.join(build, "bindings", "python"))
    os.environ.setdefault("XVM_TEMPLATE_DIR", os.path.join(os.path.dirname(__file__), "..", "data", "templates"))
    import xvm

    tmp = tempfile.mkdtemp(prefix="xvm-bench-storage-")
    try:
        conn = xvm.connect(f"local://{tmp}/state")
        sr = next(r for r, v in conn.call("SR.get_all_records").items() if v["name_label"] == "Local storage")
        srdir = os.path.join(tmp, "state", "sr", "local")

        print(f"{'data':>8} {'clone ms':>10} {'snapshot ms':>12} {'qemu-img convert ms':>20} {'ratio':>8}")
        for gib in sizes:
            vdi = conn.call("VDI.create", {"SR": sr, "name_label": f"bench{gib}", "virtual_size": gib * GiB})
            src = os.path.join(srdir, conn.call("VDI.get_location", vdi))
            fill(src, gib * GiB)
            clones, snaps = [], []
            for _ in range(runs):
                made = []
                clones.append(timed(lambda: made.append(conn.call("VDI.clone", vdi, {}))))
                snaps.append(timed(lambda: made.append(conn.call("VDI.snapshot", vdi, {}))))
                for m in made:
                    conn.call("VDI.destroy", m)
            src = os.path.join(srdir, conn.call("VDI.get_location", vdi))
            copy = os.path.join(tmp, "copy.qcow2")
            full = timed(lambda: subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "qcow2", src, copy],
                                                check=True))
            os.unlink(copy)
            conn.call("VDI.destroy", vdi)
            clone_ms, snap_ms = statistics.median(clones) * 1e3, statistics.median(snaps) * 1e3
            print(f"{gib:>5} GiB {clone_ms:>10.1f} {snap_ms:>12.1f} {full * 1e3:>20.0f} "
                  f"{full * 1e3 / max(clone_ms, snap_ms):>7.0f}x")

        # Import throughput: a raw image of 2 GiB of data into a qcow2 disk, against cp.
        size = 2 * GiB
        raw = os.path.join(tmp, "image.raw")
        with open(raw, "wb") as f:
            block = os.urandom(1 << 20)
            for _ in range(size >> 20):
                f.write(block)
        subprocess.run(["sync"], check=True)
        vdi = conn.call("VDI.create", {"SR": sr, "name_label": "import", "virtual_size": size})
        imp = timed(lambda: (conn.call("VDI.import_from_file", vdi, raw, "raw"), subprocess.run(["sync"])))
        dst = os.path.join(tmp, "copy.raw")
        cp = timed(lambda: (shutil.copyfile(raw, dst), subprocess.run(["sync"])))
        mb = size / 1e6
        print(f"\nimport of a 2 GiB raw image: xvm {mb / imp:.0f} MB/s, cp {mb / cp:.0f} MB/s, "
              f"ratio {cp / imp:.2f} (1.0 = as fast as cp)")
        conn.call("VDI.destroy", vdi)
        conn.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
