#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""xvmd: requests per second, event latency and memory.

    bench/daemon.py BUILD_DIR [N] [SECONDS]     # N = 10000 VMs, SECONDS = 5 per figure

- VM.get_record (a random VM each time) and VM.get_all_records over N VMs,
  over JSON-RPC and XML-RPC, with 1 and 16 clients (processes, keep-alive
  connections, bodies read whole but not decoded: the daemon's rate, not
  Python's parser's);
- how long a change takes to reach a waiting event.from, p50 and p99, for
  a change made through the daemon and one made by another process (the
  library straight on the state, as the local CLI does);
- xvmd's RSS idle, and with 1,000 and N VMs after a get_all_records (and
  its peak, VmHWM, which that call sets).

Everything runs on this machine, on 127.0.0.1 and a unix socket in a
temporary directory; the clients share the machine's cores with the daemon.
"""
import http.client
import json
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))


def rss_kib(pid, field="VmRSS"):
    time.sleep(0.5)  # the memory of the last answer is given back once it is sent
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def jsonrpc_body(method, params):
    return json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}).encode()


def xmlrpc_body(method, params):
    import xmlrpc.client
    return xmlrpc.client.dumps(tuple(params), method).encode()


def client(port, proto, method, session, refs, seconds, out):
    """One client: as many calls as it can in `seconds`, on one connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    path, make = ("/jsonrpc", jsonrpc_body) if proto == "json" else ("/", xmlrpc_body)
    bodies = [make(method, [session, r] if method == "VM.get_record" else [session]) for r in refs[:512]]
    n, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn.request("POST", path, body=random.choice(bodies))
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200 and (b'"error"' not in body[:64] if proto == "json" else b"Success" in body[:300]), body[:300]
        n += 1
    out.put(n)


def rate(port, proto, method, session, refs, clients, seconds):
    q = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client, args=(port, proto, method, session, refs, seconds, q))
             for _ in range(clients)]
    start = time.monotonic()
    for p in procs:
        p.start()
    total = sum(q.get() for _ in procs)
    for p in procs:
        p.join()
    return total / (time.monotonic() - start)


def latencies(d, session, change, rounds=200):
    """Time from a change to the waiting event.from's answer: from the start
    of the call that changes (its own time included) and from its return
    (negative when the answer came first)."""
    token = d.call("event.from", session, ["vm"], "", 0)["token"]
    from_start, from_end = [], []
    for _ in range(rounds):
        got = {}

        def wait():
            got["r"] = d.call("event.from", session, ["vm"], token, 30)
            got["t"] = time.perf_counter()
        t = threading.Thread(target=wait)
        t.start()
        time.sleep(0.005)  # the waiter is asleep
        t0 = time.perf_counter()
        change()
        t1 = time.perf_counter()
        t.join()
        assert got["r"]["events"], got
        token = got["r"]["token"]
        from_start.append((got["t"] - t0) * 1000)
        from_end.append((got["t"] - t1) * 1000)

    def p(xs, q):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(len(xs) * q))]
    return p(from_start, 0.5), p(from_start, 0.99), p(from_end, 0.5), p(from_end, 0.99)


def main():
    build = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 5
    os.environ["XVMD"] = os.path.join(build, "frontends", "daemon", "xvmd")
    os.environ["XVM_CLI"] = os.path.join(build, "frontends", "cli", "xvm")
    os.environ.setdefault("XVM_TEMPLATE_DIR", os.path.join(HERE, "..", "data", "templates"))
    sys.path.insert(0, os.path.join(build, "bindings", "python"))
    import xvm
    from pathlib import Path
    from xvmd import Xvmd

    with tempfile.TemporaryDirectory(prefix="xvm-bench-daemon-") as tmp:
        d = Xvmd(Path(tmp) / "d", {"workers": 16, "log_level": "info"})
        d.env = dict(os.environ)
        d.start()
        try:
            s = d.login_root()
            rss = {"idle": rss_kib(d.proc.pid)}
            local = xvm.connect(d.uri)
            made = 0
            for target in (1000, n):
                while made < target:
                    local.install("sim test", f"b{made}")
                    made += 1
                d.call("VM.get_all_records", s)
                rss[target] = rss_kib(d.proc.pid)
                rss[f"peak{target}"] = rss_kib(d.proc.pid, "VmHWM")
            refs = [r for r, rec in d.call("VM.get_all_records", s).items() if not rec["is_a_template"]]

            print(f"xvmd on sim:///, {n} VMs, {seconds:g} s per figure, {os.cpu_count()} cores shared with the clients")
            print(f"{'requests/s':<28}{'JSON-RPC':>12}{'XML-RPC':>12}")
            for method in ("VM.get_record", "VM.get_all_records"):
                for clients in (1, 16):
                    figs = [rate(d.port, proto, method, s, refs, clients, seconds) for proto in ("json", "xml")]
                    print(f"  {method} x{clients:<2} clients".ljust(28) + f"{figs[0]:12.1f}{figs[1]:12.1f}")

            vm = refs[0]
            i = [0]

            def through_daemon():
                i[0] += 1
                d.call("VM.set_name_description", s, vm, f"d{i[0]}")

            lref = vm

            def other_process():
                i[0] += 1
                local.call("VM.set_name_description", lref, f"l{i[0]}")
            for name, change in (("through the daemon", through_daemon), ("another process", other_process)):
                p50, p99, e50, e99 = latencies(d, s, change)
                print(f"event.from wake-up, change {name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms from the change's start; "
                      f"p50 {e50:.2f} ms, p99 {e99:.2f} ms after it returned")
            print(f"xvmd RSS: idle {rss['idle'] / 1024:.1f} MiB; 1,000 VMs {rss[1000] / 1024:.1f} MiB "
                  f"(peak {rss['peak1000'] / 1024:.1f} MiB during a get_all_records); "
                  f"{n:,} VMs {rss[n] / 1024:.1f} MiB (peak {rss[f'peak{n}'] / 1024:.1f} MiB)")
            local.close()
        finally:
            d.stop()


if __name__ == "__main__":
    main()
