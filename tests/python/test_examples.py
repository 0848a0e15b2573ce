# SPDX-License-Identifier: LGPL-2.1-or-later
"""examples/python, run as a user would, on a sim:// state directory."""
import os
import subprocess
import sys
import time

import xvm

EXAMPLES = os.environ.get("XVM_PYTHON_EXAMPLES",
                          os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python"))


def run(*args, **kw):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60, **kw)


def test_lifecycle_example(uri):
    p = run(os.path.join(EXAMPLES, "lifecycle.py"), uri)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("installed lifecycle-example")
    assert lines[1].startswith("started: Running")
    assert lines[2:] == ["shut down: Halted", "uninstalled"]
    with xvm.connect(uri) as conn:
        assert conn.vms.all() == []


def test_lifecycle_example_reports_errors(uri):
    p = run(os.path.join(EXAMPLES, "lifecycle.py"), uri, "--template", "nope")
    assert p.returncode == 1
    assert p.stderr.startswith("Error: UNKNOWN_TEMPLATE: ")


def test_watch_example_prints_changes(uri):
    with xvm.connect(uri) as conn:
        vm = conn.install("sim test", "watched")
        w = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "watch.py"), uri, "--interval", "0.05",
                              "--count", "30"], stdout=subprocess.PIPE, text=True)
        assert w.stdout.readline() == "watched: Halted\n"
        vm.start()
        time.sleep(0.3)
        vm.hard_shutdown()
        time.sleep(0.3)
        vm.destroy()
        out, _ = w.communicate(timeout=60)
    assert w.returncode == 0
    changes = [line.split(" ", 1)[1] for line in out.splitlines()]
    assert changes == ["watched: Halted -> Running", "watched: Running -> Halted", "watched: gone"]


def test_storage_example(uri):
    p = run(os.path.join(EXAMPLES, "storage.py"), uri, "--size", "16")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "created storage-example data: 16 MiB in Local storage (qcow2)",
        "attached to storage-example at position 0: plugged=True",
        "snapshot of storage-example data: 16 MiB, is_a_snapshot=True",
        "detached: 0 drive(s) on the VM",
        "cleaned up",
    ]
    with xvm.connect(uri) as conn:
        assert conn.vms.all() == [] and conn.vdis.all() == [] and conn.vbds.all() == []


def test_storage_example_cleans_up_after_errors(uri):
    p = run(os.path.join(EXAMPLES, "storage.py"), uri, "--size", str(1 << 40))   # 1 EiB: no room
    assert p.returncode == 1
    assert p.stderr.startswith("Error: SR_FULL: ")
    assert p.stdout == "cleaned up\n"
    with xvm.connect(uri) as conn:
        assert conn.vms.all() == [] and conn.vdis.all() == []
    p = run(os.path.join(EXAMPLES, "storage.py"), uri, "--sr", "nope")
    assert p.returncode == 1 and "no SR is named 'nope'" in p.stderr
