#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Watches VMs' power states and prints each change, as it sees it.

    watch.py URI [--interval SECONDS] [--count N]

xvm has no event API yet (XenAPI's event.from will come with the daemon),
so this polls: every interval it lists the VMs' names and power states in
one call (VM.get_all_records_fields) and prints what changed since the
previous poll, VMs appearing and going included. A change that is undone
between two polls is not seen. Stops after N polls, or on Ctrl-C.
"""
import argparse
import sys
import time

import xvm

FIELDS = ["name_label", "power_state", "is_a_template"]


def states(conn):
    """ref -> (name, power state) of every VM that is not a template."""
    recs = conn.call("VM.get_all_records_fields", FIELDS)
    return {ref: (r["name_label"], r["power_state"]) for ref, r in recs.items() if not r["is_a_template"]}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("uri", help="sim:///PATH, local:///PATH, ...")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between polls (default: %(default)s)")
    p.add_argument("--count", type=int, default=0, help="stop after this many polls (default: never)")
    args = p.parse_args()

    try:
        with xvm.connect(args.uri) as conn:
            seen = states(conn)
            for name, state in sorted(seen.values()):
                print(f"{name}: {state}", flush=True)
            polls = 1
            while not args.count or polls < args.count:
                time.sleep(args.interval)
                now = states(conn)
                polls += 1
                stamp = time.strftime("%H:%M:%S")
                for ref in seen.keys() - now.keys():
                    print(f"{stamp} {seen[ref][0]}: gone", flush=True)
                for ref, (name, state) in now.items():
                    old = seen.get(ref)
                    if old is None:
                        print(f"{stamp} {name}: new, {state}", flush=True)
                    elif old[1] != state:
                        print(f"{stamp} {name}: {old[1]} -> {state}", flush=True)
                seen = now
    except KeyboardInterrupt:
        pass
    except xvm.Error as e:
        print(f"Error: {e.code}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
