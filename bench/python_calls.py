#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Python module adds to a call: vm.record() (get_record),
conn.vms.all() (get_all_records_fields on is_a_template) and
conn.vms.records() (get_all_records) over N VMs, against the same calls
from C, on one state directory in one run. The C side is a process of its
own (bench-python-calls) that makes a measurement when asked: each Python
measurement is followed by the same one from C, so that both see the same
machine, and each side's first round, which warms caches and heaps, is not
counted. Before a run of get_record calls each side makes a tenth as many
untimed, to have its caches back after the other side's turn. Times are
the calling thread's CPU time (time.thread_time(), CLOCK_THREAD_CPUTIME_ID
in C): on a shared machine wall time mostly measures the neighbours. Each
side's figure is the best and the median of the rounds; what Python adds
and the ratio are the medians of each pair's, which the neighbours' load,
changing from one second to the next, moves least.

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
# be part of the figure. Each returns us per call.


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


# (Python figure, Python call, C measurement, its unit)
ROWS = [
    ("record", "vm.record()", "get_record", "us/call"),
    ("record_one_field", 'vm.record()["power_state"]', "get_record", "us/call"),
    ("record_whole", "dict(vm.record())", "get_record", "us/call"),
    ("all", "conn.vms.all()", "get_all_records_fields", "ms"),
    ("records", "conn.vms.records()", "get_all_records", "ms"),
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
    c = {row[0]: [] for row in ROWS}      # the C figure paired with each Python one
    py = {row[0]: [] for row in ROWS}
    with tempfile.TemporaryDirectory(prefix="xvm-bench-py-") as state:
        # A first run installs the VMs: a process that did is slower to list
        # them (its heap after N installs), so another one measures.
        subprocess.run([c_bench, state, str(n), "1"], check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        c_side = subprocess.Popen([c_bench, state, str(n), str(calls)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert json.loads(c_side.stdout.readline())["n"] == n

        def c_measure(name):
            c_side.stdin.write(name + "\n")
            c_side.stdin.flush()
            return json.loads(c_side.stdout.readline())[name]

        with xvm.connect("sim://" + state) as conn:
            # The same VMs in the same order as the C side's get_all.
            vms = [xvm.VM(conn, ref) for ref in conn.call("VM.get_all")]
            assert len(conn.vms.all()) == n and len(conn.vms.records()) == n

            def per_call(loop):
                loop(vms, calls // 10)
                return loop(vms, calls)

            steps = {"record": lambda: per_call(record),
                     "record_one_field": lambda: per_call(record_one_field),
                     "record_whole": lambda: per_call(record_whole),
                     "all": lambda: listing_ms(conn.vms.all),
                     "records": lambda: listing_ms(conn.vms.records)}
            for k in range(rounds + 1):
                for key, _, c_name, _ in ROWS:
                    t = steps[key]()
                    t_c = c_measure(c_name)
                    if k:
                        py[key].append(t)
                        c[key].append(t_c)
        c_side.stdin.close()
        if c_side.wait() != 0:
            sys.exit("bench-python-calls failed")

    print(f"N = {n} VMs, {calls} get_record calls a round, {rounds} rounds: best (median) of the rounds;"
          " adds and ratio: median of the pairs'")
    summary = {"n": n, "calls": calls, "rounds": rounds}
    for key, py_name, c_name, unit in ROWS:
        cs, ps = c[key], py[key]
        adds = statistics.median(p - q for p, q in zip(ps, cs))
        ratio = statistics.median(p / q for p, q in zip(ps, cs))
        print(f"{c_name:22} C {min(cs):7.2f} ({statistics.median(cs):7.2f}) {unit:7}  {py_name:26} Python"
              f" {min(ps):7.2f} ({statistics.median(ps):7.2f})  adds {adds:6.2f} {unit:7}  {ratio:.2f}x")
        summary[key] = {"unit": unit, "c": [round(min(cs), 3), round(statistics.median(cs), 3)],
                        "python": [round(min(ps), 3), round(statistics.median(ps), 3)],
                        "adds": round(adds, 3), "ratio": round(ratio, 3)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
