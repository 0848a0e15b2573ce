#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Python module adds to a call: vm.record() (get_record),
conn.vms.all() (get_all_records_fields on is_a_template) and
conn.vms.records() (get_all_records) over N VMs, against the same calls
from C, on one state directory in one run. The C side is a process of its
own (bench-python-calls) that makes a round when asked: rounds alternate
Python and C so that both see the same machine, and the first round of
each side, which warms caches and heaps, is not counted. Times are the
calling thread's CPU time (time.thread_time(), CLOCK_THREAD_CPUTIME_ID in
C): on a shared machine wall time mostly measures the neighbours. Each
side's figure is the best and the median of the rounds; what Python adds
and the ratio are the medians of the rounds' own (a round of each side,
next to each other), which the neighbours' load, changing from one second
to the next, moves least.

vm.record() returns an xvm.Record, which converts a value when it is first
read: the figures also show records read for one field, and records
converted whole (dict(vm.record())), which is what every record cost when
records were dicts.

    bench/python_calls.py BUILD_DIR [N] [CALLS] [ROUNDS]   # 10000, 5000, 20

Targets: Python adds under 2 us per get_record, and a listing takes under
2x C's.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# The loops are written out: a call of a Python function per call would
# be part of the figure.


def record(vms, calls):
    t0 = time.thread_time()
    for i in range(calls):
        vms[i % len(vms)].record()
    return (time.thread_time() - t0) / calls * 1e6


def record_one_field(vms, calls):
    t0 = time.thread_time()
    for i in range(calls):
        vms[i % len(vms)].record()["power_state"]
    return (time.thread_time() - t0) / calls * 1e6


def record_whole(vms, calls):
    t0 = time.thread_time()
    for i in range(calls):
        dict(vms[i % len(vms)].record())
    return (time.thread_time() - t0) / calls * 1e6


def listing_ms(fn):
    """One call of fn, freeing its result included (as in C), in ms."""
    t0 = time.thread_time()
    fn()
    return (time.thread_time() - t0) * 1e3


# (C figure, its unit, C call, Python figure, Python call)
ROWS = [
    ("get_record_us", "us/call", "get_record", "record", "vm.record()"),
    ("get_record_us", "us/call", "get_record", "record_one_field", 'vm.record()["power_state"]'),
    ("get_record_us", "us/call", "get_record", "record_whole", "dict(vm.record())"),
    ("get_all_records_fields_ms", "ms", "get_all_records_fields", "all", "conn.vms.all()"),
    ("get_all_records_ms", "ms", "get_all_records", "records", "conn.vms.records()"),
]


def main():
    build = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    sys.path.insert(0, os.path.join(build, "bindings", "python"))
    os.environ.setdefault("XVM_TEMPLATE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                          "..", "data", "templates"))
    import xvm

    c_bench = os.path.join(build, "bench", "bench-python-calls")
    c = {row[0]: [] for row in ROWS}
    py = {row[3]: [] for row in ROWS}
    with tempfile.TemporaryDirectory(prefix="xvm-bench-py-") as state:
        # A first run installs the VMs: a process that did is slower to list
        # them (its heap after N installs), so another one measures.
        subprocess.run([c_bench, state, str(n), "1"], check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        c_side = subprocess.Popen([c_bench, state, str(n), str(calls)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert json.loads(c_side.stdout.readline())["n"] == n
        with xvm.connect("sim://" + state) as conn:
            # The same VMs in the same order as the C side's get_all.
            vms = [xvm.VM(conn, ref) for ref in conn.call("VM.get_all")]
            assert len(conn.vms.all()) == n and len(conn.vms.records()) == n
            steps = [("record", lambda: record(vms, calls)),
                     ("record_one_field", lambda: record_one_field(vms, calls)),
                     ("record_whole", lambda: record_whole(vms, calls)),
                     ("all", lambda: listing_ms(conn.vms.all)),
                     ("records", lambda: listing_ms(conn.vms.records))]
            for k in range(rounds + 1):
                for name, step in steps:
                    t = step()
                    if k:
                        py[name].append(t)
                c_side.stdin.write("round\n")
                c_side.stdin.flush()
                for name, t in json.loads(c_side.stdout.readline()).items():
                    if k:
                        c[name].append(t)
        c_side.stdin.close()
        if c_side.wait() != 0:
            sys.exit("bench-python-calls failed")

    print(f"N = {n} VMs, {calls} get_record calls a round, {rounds} rounds: best (median) of the rounds;"
          " adds and ratio: median of the rounds'")
    summary = {"n": n, "calls": calls, "rounds": rounds}
    for c_key, unit, c_name, py_key, py_name in ROWS:
        cs, ps = c[c_key], py[py_key]
        adds = statistics.median(p - q for p, q in zip(ps, cs))
        ratio = statistics.median(p / q for p, q in zip(ps, cs))
        print(f"{c_name:22} C {min(cs):7.2f} ({statistics.median(cs):7.2f}) {unit:7}  {py_name:26} Python"
              f" {min(ps):7.2f} ({statistics.median(ps):7.2f})  adds {adds:6.2f} {unit:7}  {ratio:.2f}x")
        summary[py_key] = {"unit": unit, "c": [round(min(cs), 3), round(statistics.median(cs), 3)],
                           "python": [round(min(ps), 3), round(statistics.median(ps), 3)],
                           "adds": round(adds, 3), "ratio": round(ratio, 3)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
