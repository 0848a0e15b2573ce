#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs a VM through its life with the xvm module: install it from a
template, start it, show it, shut it down, uninstall it.

    lifecycle.py URI [--template NAME] [--name NAME]

    lifecycle.py sim:///tmp/demo                 # the simulated hypervisor
    lifecycle.py local:///var/lib/xvm --template "Other install media"

On failure it prints the XenAPI error (code, parameters, message) and
exits with status 1; the VM, if it was installed, is uninstalled.
"""
import argparse
import sys

import xvm


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("uri", help="sim:///PATH, local:///PATH, ...")
    p.add_argument("--template", default="sim test", help="template name, UUID or ref (default: %(default)s)")
    p.add_argument("--name", default="lifecycle-example", help="the new VM's name (default: %(default)s)")
    args = p.parse_args()

    try:
        with xvm.connect(args.uri) as conn:
            vm = conn.install(args.template, args.name)
            print(f"installed {vm.name_label} ({vm.uuid}) from {args.template!r}")
            try:
                vm.start()
                rec = vm.record()
                host = rec["resident_on"]
                print(f"started: {rec['power_state']} on {host.name_label if host else '?'}, "
                      f"domid {rec['domid']}, {rec['VCPUs_at_startup']} vCPU(s), "
                      f"{rec['memory_dynamic_max'] // 2**20} MiB")
                vm.clean_shutdown()
                print(f"shut down: {vm.power_state}")
            finally:
                vm.uninstall()
                print("uninstalled")
    except xvm.Error as e:
        print(f"Error: {e.code}: {e}", file=sys.stderr)
        if e.params:
            print(f"Parameters: {', '.join(e.params)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
