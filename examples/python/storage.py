#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Gives a VM a disk with the xvm module: create a disk in an SR, attach it
to the VM, hot-plug it while the VM runs, snapshot it, then clean up.

    storage.py URI [--sr NAME] [--size MIB] [--template NAME]

    storage.py sim:///tmp/demo                   # the simulated hypervisor
    storage.py local:///var/lib/xvm --template "Other install media"

The disk goes into the SR named --sr (default: the pool's default SR,
"Local storage"). On failure it prints the XenAPI error (code,
parameters, message) and exits with status 1; the VM and the disks it
made are removed either way.
"""
import argparse
import sys

import xvm


def default_sr(conn, name):
    if name:
        srs = conn.srs.by_name(name)
        if not srs:
            raise SystemExit(f"no SR is named {name!r}")
        return srs[0]
    return conn.pools.all()[0].default_SR


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("uri", help="sim:///PATH, local:///PATH, xvm+tcp://HOST:PORT, ...")
    p.add_argument("--sr", help="the SR's name (default: the pool's default SR)")
    p.add_argument("--size", type=int, default=64, help="the disk's size in MiB (default: %(default)s)")
    p.add_argument("--template", default="sim test", help="template of the VM (default: %(default)s)")
    args = p.parse_args()

    try:
        with xvm.connect(args.uri) as conn:
            sr = default_sr(conn, args.sr)
            vm = conn.install(args.template, "storage-example")
            made = []                                   # the disks to remove whatever happens
            try:
                disk = sr.create_vdi("storage-example data", args.size << 20)
                made.append(disk)
                print(f"created {disk.name_label}: {disk.virtual_size >> 20} MiB in {sr.name_label} "
                      f"({disk.sm_config.get('type', sr.type)})")
                vm.start()
                vbd = conn.create_vbd(vm, disk)         # at the first free position
                vbd.plug()                              # hot-plugged into the running VM
                print(f"attached to {vm.name_label} at position {vbd.userdevice}: "
                      f"plugged={vbd.currently_attached}")
                snap = disk.snapshot()                  # copy-on-write, while the VM runs
                made.append(snap)
                print(f"snapshot of {snap.snapshot_of.name_label}: {snap.virtual_size >> 20} MiB, "
                      f"is_a_snapshot={snap.is_a_snapshot}")
                vbd.unplug()
                vbd.destroy()
                print(f"detached: {len(vm.VBDs)} drive(s) on the VM")
            finally:
                vm.uninstall()                          # stopped first, with the disks attached to it
                left = conn.vdis.all()
                for vdi in made:
                    if vdi in left:
                        vdi.destroy()
                print("cleaned up")
    except xvm.Error as e:
        print(f"Error: {e.code}: {e}", file=sys.stderr)
        if e.params:
            print(f"Parameters: {', '.join(e.params)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
