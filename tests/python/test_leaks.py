# SPDX-License-Identifier: LGPL-2.1-or-later
"""Nothing leaks: resident memory stays flat over 100,000 calls once warm.

RSS moves by itself in steps (a thread's malloc arena, SQLite's cache
filling up), once; a leak grows it in every batch. So the calls run in
batches and the smallest batch's growth must be about zero."""
import os

import xvm

PAGE = os.sysconf("SC_PAGE_SIZE")
BATCHES = 5


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def growth(call, calls, warm_up):
    for _ in range(warm_up):
        call()
    steps = []
    for _ in range(BATCHES):
        before = rss()
        for _ in range(calls // BATCHES):
            call()
        steps.append(rss() - before)
    return steps


def test_rss_flat_over_100000_calls(vm):
    """get_record, its record used in each of the ways that convert: a
    few fields read, every field read, the whole record, a change."""
    vm.start()
    fields = list(xvm.VM.fields)
    uses = [
        lambda rec: (rec["power_state"], rec["metrics"], rec.get("other_config"), "uuid" in rec, len(rec)),
        lambda rec: [rec[k] for k in fields],
        lambda rec: rec == {},
        lambda rec: rec.__setitem__("x", rec["resident_on"]),
    ]
    count = 0

    def call():
        nonlocal count
        count += 1
        uses[count % len(uses)](vm.record())

    steps = growth(call, 100000, 10000)
    # A leak of 8 bytes a call would grow every batch by 160 KB.
    assert min(steps) < 64 * 1024 and sum(steps) < 4 * 2 ** 20, steps


def test_rss_flat_over_failing_calls(vm):
    def fail():
        try:
            vm.pause()
        except xvm.VMBadPowerState:
            pass

    steps = growth(fail, 30000, 5000)
    assert min(steps) < 64 * 1024 and sum(steps) < 4 * 2 ** 20, steps


def test_rss_flat_over_storage_calls(conn, vm):
    """The storage wrappers: objects made and destroyed, references passed
    as objects and strs, records built for libxvm, failures raised."""
    vdi = conn.srs.by_name("Local storage")[0].create_vdi("d", 1 << 20)
    cd = conn.create_vbd(vm, type="CD")
    count = 0

    def call():
        nonlocal count
        count += 1
        if count % 10 == 0:
            conn.create_vbd(vm, vdi, userdevice=1).destroy()
        try:
            (cd.eject, lambda: conn.create_vdi(vdi.SR, "x", 0), lambda: cd.insert(vdi.ref))[count % 3]()
        except (xvm.VBDIsEmpty, xvm.InvalidValue, xvm.VDIIsNotIso):
            pass

    steps = growth(call, 30000, 5000)
    assert min(steps) < 64 * 1024 and sum(steps) < 4 * 2 ** 20, steps
    assert vm.VBDs == [cd]
