#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Python module adds to a call: vm.record() (get_record) and
conn.vms.records() (get_all_records) over N VMs, against the same calls
from C (bench-python-calls), on one state directory in one run. Each figure
is the best of several rounds, alternating C and Python so that both see
the same machine, in the calling thread's CPU time (time.thread_time(),
CLOCK_THREAD_CPUTIME_ID in C): on a shared machine wall time mostly
measures the neighbours.

    bench/python_calls.py BUILD_DIR [N] [CALLS]      # N = 10000, CALLS = 5000

Targets: Python adds under 2 us per get_record, and the listing takes under
2x C's.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ROUNDS = 10


def main():
    build = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    sys.path.insert(0, os.path.join(build, "bindings", "python"))
    os.environ.setdefault("XVM_TEMPLATE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                          "..", "data", "templates"))
    import xvm

    with tempfile.TemporaryDirectory(prefix="xvm-bench-py-") as state:
        def c_side():
            out = subprocess.run([os.path.join(build, "bench", "bench-python-calls"), state, str(n), str(calls)],
                                 check=True, capture_output=True, text=True).stdout
            return json.loads(out)

        c_runs = [c_side()]                 # the first run also installs the VMs
        with xvm.connect("sim://" + state) as conn:
            vms = conn.vms.all() + conn.templates.all()
            assert len(conn.vms.all()) == n
            py_call, py_list = [], []
            for _ in range(ROUNDS):
                t0 = time.thread_time()
                for i in range(calls):
                    vms[i % len(vms)].record()
                py_call.append((time.thread_time() - t0) / calls * 1e6)
                t0 = time.thread_time()
                records = conn.vms.records()
                py_list.append((time.thread_time() - t0) * 1e3)
                assert len(records) == n
                c_runs.append(c_side())
        c_call = min(r["get_record_us"] for r in c_runs)
        c_list = min(r["get_all_records_ms"] for r in c_runs)

    py_call, py_list = min(py_call), min(py_list)
    print(f"N = {n} VMs, {calls} get_record calls a round, best of {ROUNDS} rounds")
    print(f"get_record       C {c_call:8.2f} us/call   Python vm.record()         {py_call:8.2f} us/call"
          f"   Python adds {py_call - c_call:6.2f} us ({py_call / c_call:.2f}x)")
    print(f"get_all_records  C {c_list:8.1f} ms        Python conn.vms.records()  {py_list:8.1f} ms"
          f"        ratio {py_list / c_list:.2f}x")
    print(json.dumps({"n": n, "c_get_record_us": round(c_call, 3), "py_get_record_us": round(py_call, 3),
                      "py_adds_us": round(py_call - c_call, 3), "c_get_all_records_ms": round(c_list, 2),
                      "py_records_ms": round(py_list, 2), "records_ratio": round(py_list / c_list, 3)}))


if __name__ == "__main__":
    main()
