#!/usr/bin/python3
"""Foundation benchmark: VM lifecycle throughput and listing at scale, xvm
against libvirt's test driver, measured in the same run.

    bench/run.py BUILD_DIR [N]      (default N = 10000)

Prints the figures and the ratios; the README quotes them.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def best_of(runs, argv, env=None):
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
        t = time.perf_counter() - start
        best = t if best is None or t < best else best
    return best


def main():
    build = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    with tempfile.TemporaryDirectory(prefix="xvm-bench-") as tmp:
        state = os.path.join(tmp, "state")
        out = subprocess.run([os.path.join(build, "bench", "bench-lifecycle"), state, str(n)],
                             check=True, capture_output=True, text=True).stdout
        xvm = json.loads(out)
        cli = os.path.join(build, "frontends", "cli", "xvm")
        xvm["cli_vm_list_ms"] = best_of(5, [cli, "-c", f"sim://{state}", "vm-list"]) * 1000
        listed = subprocess.run([cli, "-c", f"sim://{state}", "vm-list", "--minimal"],
                                check=True, capture_output=True, text=True).stdout
        xvm["cli_vm_list_rows"] = len([u for u in listed.strip().split(",") if u])
        lv_dir = os.path.join(tmp, "libvirt")
        os.mkdir(lv_dir)
        lv = json.loads(subprocess.run(["/usr/bin/python3", os.path.join(HERE, "libvirt_baseline.py"), str(n), lv_dir],
                                       check=True, capture_output=True, text=True).stdout)

    print(f"VMs: {n}")
    print(f"lifecycle cycles/s (install, start, clean_shutdown, uninstall; every op committed):")
    print(f"  xvm sim:///            {xvm['cycles_per_s']:10.1f}   ({xvm['ops_per_s']:.0f} ops/s)")
    print(f"  libvirt test:///       {lv['cycles_per_s']:10.1f}   (in memory, nothing persisted)")
    print(f"  ratio xvm/libvirt      {xvm['cycles_per_s'] / lv['cycles_per_s']:10.2f}")
    print(f"installs/s               {xvm['installs_per_s']:10.1f}")
    print(f"list {n} VMs:")
    print(f"  library get_all_records       {xvm['get_all_records_ms']:8.1f} ms")
    print(f"  CLI xvm vm-list               {xvm['cli_vm_list_ms']:8.1f} ms  ({xvm['cli_vm_list_rows']} rows)")
    print(f"  virsh list --all (test://)    {lv['virsh_list_ms']:8.1f} ms  ({lv['rows']} rows)")
    print(f"  ratio virsh/xvm CLI           {lv['virsh_list_ms'] / xvm['cli_vm_list_ms']:8.2f}")


if __name__ == "__main__":
    main()
