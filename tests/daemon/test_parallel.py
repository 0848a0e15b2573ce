# SPDX-License-Identifier: LGPL-2.1-or-later
"""50 clients at once, mixing reads and lifecycle calls on sim:///."""
import threading
import time

from conftest import RpcError

CLIENTS = 50
ROUNDS = 6


def test_fifty_parallel_clients(make_xvmd):
    d = make_xvmd(workers=16)
    s = d.login_root()
    errors, mine = [], {}

    def client(i):
        try:
            vm = d.call("VM.install", s, "sim test", f"p{i}")
            mine[i] = vm
            for _ in range(ROUNDS):
                d.call("VM.start", s, vm, False, False)
                assert d.call("VM.get_power_state", s, vm) == "Running"
                recs = d.call("VM.get_all_records", s)
                assert recs[vm]["power_state"] == "Running"
                d.call("VM.pause", s, vm)
                d.call("VM.unpause", s, vm)
                d.call("VM.clean_shutdown", s, vm)
                assert d.call("VM.get_record", s, vm)["power_state"] == "Halted"
        except (RpcError, AssertionError) as e:
            errors.append((i, e))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:5]
    recs = d.call("VM.get_all_records", s)
    for i, vm in mine.items():
        assert recs[vm]["name_label"] == f"p{i}" and recs[vm]["power_state"] == "Halted"
        assert recs[vm]["domid"] == -1 and recs[vm]["current_operations"] == {}
    # The local CLI reads the same state.
    assert len(d.xvm("vm-list", "power-state=halted", "--minimal").split(",")) == CLIENTS


def test_waiting_clients_do_not_starve_calls(make_xvmd):
    d = make_xvmd(workers=2)
    s = d.login_root()
    token = d.call("event.from", s, ["host"], "", 0)["token"]
    answers = []
    waiters = [threading.Thread(target=lambda: answers.append(d.call("event.from", s, ["host"], token, 3)))
               for _ in range(10)]
    for t in waiters:
        t.start()
    time.sleep(0.5)
    # Ten clients wait on a pool of two workers; calls still run at once.
    t0 = time.monotonic()
    for _ in range(20):
        d.call("VM.get_all", s)
    assert time.monotonic() - t0 < 2
    vm = d.call("VM.install", s, "sim test", "w")
    d.call("VM.start", s, vm, False, False)
    for t in waiters:
        t.join(timeout=30)
    assert len(answers) == 10 and all(a["events"] == [] for a in answers)
