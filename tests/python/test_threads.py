# SPDX-License-Identifier: LGPL-2.1-or-later
"""Threads: calls run without the GIL and in parallel on one connection,
VM lifecycle and storage alike; close() while calls are in flight on
other threads never crashes."""
import sys
import threading
import time

import pytest

import xvm

THREADS = 8
ROUNDS = 25


def test_eight_threads_mix_reads_lifecycle_and_storage(conn):
    vms = [conn.install("sim test", f"t{i}") for i in range(THREADS)]
    sr = conn.srs.by_name("Local storage")[0]
    vbds = [conn.create_vbd(vm, sr.create_vdi(f"t{i} disk", 1 << 20)) for i, vm in enumerate(vms)]
    errors = []
    barrier = threading.Barrier(THREADS)

    def work(vm, vbd):
        try:
            barrier.wait()
            for r in range(ROUNDS):
                vm.start()
                assert vm.power_state == "Running"
                assert vbd.currently_attached      # the thread's disk, attached at start
                vbd.unplug()                       # hot-unplug and plug again, each VM its own
                assert not vbd.currently_attached
                vbd.plug()
                if r % 5 == 0:                     # a live snapshot: qemu-img, under the SR's lock
                    vbd.VDI.snapshot().destroy()
                vm.pause()
                assert vm.record()["power_state"] == "Paused"
                vm.unpause()
                vm.suspend()
                vm.resume()
                assert len(conn.vms.records()) == THREADS
                vm.other_config = {"round": str(r)}
                vm.clean_shutdown()
                assert vm.power_state == "Halted"
            vm.start()
        except Exception as e:  # reported below, with the thread's VM
            errors.append((vm.name_label, repr(e)))

    threads = [threading.Thread(target=work, args=(vm, vbd)) for vm, vbd in zip(vms, vbds)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    recs = conn.vms.records()
    assert {r["name_label"]: (r["power_state"], r["other_config"]) for r in recs.values()} == {
        f"t{i}": ("Running", {"round": str(ROUNDS - 1)}) for i in range(THREADS)}
    assert sorted(v.name_label for v in conn.vdis) == sorted(f"t{i} disk" for i in range(THREADS))
    assert all(vbd.currently_attached for vbd in vbds)


def test_calls_release_the_gil(vm):
    """With a long switch interval, another thread only runs while this one
    is inside libxvm: it must get to run during the calls."""
    ticks = 0
    stop = threading.Event()

    def ticker():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.0001)

    old = sys.getswitchinterval()
    sys.setswitchinterval(5.0)
    t = threading.Thread(target=ticker)
    try:
        t.start()
        time.sleep(0.01)
        before = ticks
        for _ in range(3000):
            vm.record()
        during = ticks - before
    finally:
        stop.set()
        sys.setswitchinterval(old)
        t.join()
    assert during >= 10


def test_close_while_calls_are_in_flight(uri):
    conn = xvm.connect(uri)
    vm = conn.install("sim test", "a")
    outcomes = []

    def hammer():
        try:
            while True:
                vm.record()
                vm.name_label
        except xvm.SessionInvalid:
            outcomes.append("closed")
        except Exception as e:
            outcomes.append(repr(e))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    conn.close()
    for t in threads:
        t.join(timeout=30)
    assert outcomes == ["closed"] * 4
    assert conn.closed
    with pytest.raises(xvm.SessionInvalid):
        vm.start()
