#!/usr/bin/python3
"""The same workload through libvirt's test driver, for comparison.

libvirt's test:///default keeps every domain in memory and persists
nothing: it is the in-memory upper bound xvm's committed store is measured
against. Prints one JSON object of figures.

    libvirt_baseline.py N WORKDIR
"""
import json
import os
import subprocess
import sys
import time

import libvirt

DOMAIN_XML = """<domain type='test'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
</domain>"""


def lifecycle(n):
    conn = libvirt.open("test:///default")
    start = time.perf_counter()
    for i in range(n):
        dom = conn.defineXML(DOMAIN_XML.format(name=f"cycle-{i}"))
        dom.create()
        dom.shutdown()
        dom.undefine()
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def node_fixture(path, n):
    """A test-driver node file holding n defined domains."""
    with open(path, "w") as f:
        f.write("<node>\n")
        for i in range(n):
            f.write(DOMAIN_XML.format(name=f"vm-{i:05d}").replace("<domain type='test'>", "<domain type='test'>", 1))
            f.write("\n")
        f.write("</node>\n")


def virsh_list_ms(path, runs=5):
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(["virsh", "-c", f"test://{path}", "list", "--all"],
                             check=True, capture_output=True, text=True).stdout
        t = time.perf_counter() - start
        best = t if best is None or t < best else best
    rows = sum(1 for line in out.splitlines() if line.strip().startswith(("-", "1", "2", "3", "4", "5", "6", "7", "8", "9")))
    return best * 1000, rows


def main():
    n = int(sys.argv[1])
    workdir = sys.argv[2]
    libvirt.registerErrorHandler(lambda *args: None, None)
    cycles = lifecycle(n)
    node = os.path.join(workdir, "node.xml")
    node_fixture(node, n)
    list_ms, rows = virsh_list_ms(node)
    print(json.dumps({"cycles_per_s": round(cycles, 1), "virsh_list_ms": round(list_ms, 1), "rows": rows}))


if __name__ == "__main__":
    main()
