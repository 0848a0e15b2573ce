# SPDX-License-Identifier: LGPL-2.1-or-later
"""event.from and event.inject: tokens, class filters, coalescing, and wake-ups
on changes made by the daemon and by other processes (the local CLI)."""
import threading
import time

import pytest

from conftest import RpcError


def events_of(result, cls=None):
    return [e for e in result["events"] if cls is None or e["class"] == cls]


def test_empty_token_gives_every_object(xvmd):
    s = xvmd.login_root()
    vm = xvmd.call("VM.install", s, "sim test", "e1")
    r = xvmd.call("event.from", s, ["vm", "host"], "", 0)
    vms = {e["ref"]: e for e in events_of(r, "vm")}
    assert vm in vms and vms[vm]["operation"] == "add" and vms[vm]["snapshot"]["name_label"] == "e1"
    assert len(events_of(r, "host")) == 1
    assert r["valid_ref_counts"]["vm"] == len(xvmd.call("VM.get_all", s))
    assert int(r["token"]) > 0
    # Nothing happened since: no events, at once with timeout 0.
    again = xvmd.call("event.from", s, ["vm"], r["token"], 0)
    assert again["events"] == [] and again["token"] == r["token"]


def test_add_mod_del_and_coalescing(xvmd):
    s = xvmd.login_root()
    token = xvmd.call("event.from", s, ["vm"], "", 0)["token"]
    vm = xvmd.call("VM.install", s, "sim test", "e2")
    r = xvmd.call("event.from", s, ["vm"], token, 5)
    assert [(e["operation"], e["ref"]) for e in r["events"]] == [("add", vm)]
    token = r["token"]
    xvmd.call("VM.start", s, vm, False, False)
    xvmd.call("VM.set_name_description", s, vm, "busy")
    xvmd.call("VM.pause", s, vm)
    r = xvmd.call("event.from", s, ["vm"], token, 5)
    # Three changes, one event, with the state as it is now.
    assert [(e["operation"], e["ref"]) for e in r["events"]] == [("mod", vm)]
    assert r["events"][0]["snapshot"]["power_state"] == "Paused"
    assert r["events"][0]["snapshot"]["name_description"] == "busy"
    token = r["token"]
    xvmd.call("VM.uninstall", s, vm)
    r = xvmd.call("event.from", s, ["vm"], token, 5)
    assert [(e["operation"], e["ref"]) for e in r["events"]] == [("del", vm)]
    assert "snapshot" not in r["events"][0]


def test_class_and_object_filters(xvmd):
    s = xvmd.login_root()
    a = xvmd.call("VM.install", s, "sim test", "fa")
    b = xvmd.call("VM.install", s, "sim test", "fb")
    token = xvmd.call("event.from", s, ["*"], "", 0)["token"]
    xvmd.call("VM.set_name_description", s, b, "x")
    xvmd.call("VM.set_name_description", s, a, "y")
    only_a = xvmd.call("event.from", s, [f"vm/{a}"], token, 5)
    assert [e["ref"] for e in only_a["events"]] == [a]
    both = xvmd.call("event.from", s, ["VM", "message", "no_such_class"], token, 5)
    assert [e["ref"] for e in both["events"]] == [b, a]
    t0 = time.monotonic()
    hosts = xvmd.call("event.from", s, ["host"], token, 0.5)
    assert hosts["events"] == [] and time.monotonic() - t0 >= 0.45
    assert int(hosts["token"]) >= int(both["token"])
    every = xvmd.call("event.from", s, ["*"], token, 5)
    assert {e["class"] for e in every["events"]} >= {"vm"}


def test_inject(xvmd):
    s = xvmd.login_root()
    host = xvmd.call("host.get_all", s)[0]
    token = xvmd.call("event.from", s, ["host"], "", 0)["token"]
    injected = xvmd.call("event.inject", s, "host", host)
    assert int(injected) > int(token)
    r = xvmd.call("event.from", s, ["host"], token, 5)
    assert [(e["operation"], e["ref"]) for e in r["events"]] == [("mod", host)]
    assert r["token"] == injected
    with pytest.raises(RpcError) as e:
        xvmd.call("event.inject", s, "host", "OpaqueRef:nope")
    assert e.value.code == "HANDLE_INVALID"
    with pytest.raises(RpcError) as e:
        xvmd.call("event.inject", s, "nosuchclass", host)
    assert e.value.code == "INVALID_VALUE"


@pytest.mark.parametrize("args,code", [
    (("vm", "", 0), "FIELD_TYPE_ERROR"),
    ((["vm"], "not-a-token", 0), "INVALID_VALUE"),
    ((["vm"], "", -1), "FIELD_TYPE_ERROR"),
    ((["vm"], "", "soon"), "FIELD_TYPE_ERROR"),
    ((["vm"], ""), "MESSAGE_PARAMETER_COUNT_MISMATCH"),
])
def test_bad_arguments(xvmd, args, code):
    with pytest.raises(RpcError) as e:
        xvmd.call("event.from", xvmd.login_root(), *args)
    assert e.value.code == code


def wait_in_thread(xvmd, s, token, out):
    t0 = time.monotonic()
    out["result"] = xvmd.call("event.from", s, ["vm"], token, 20)
    out["returned"] = time.monotonic()
    out["waited"] = out["returned"] - t0


@pytest.mark.parametrize("by", ["daemon", "other process"])
def test_a_change_wakes_a_waiter_at_once(xvmd, by):
    s = xvmd.login_root()
    vm = xvmd.call("VM.install", s, "sim test", "w1")
    token = xvmd.call("event.from", s, ["vm"], "", 0)["token"]
    out = {}
    t = threading.Thread(target=wait_in_thread, args=(xvmd, s, token, out))
    t.start()
    time.sleep(0.3)  # the waiter is asleep by now
    assert "result" not in out
    changed = time.monotonic()
    if by == "daemon":
        xvmd.call("VM.set_name_description", s, vm, "woken")
    else:
        changed = time.monotonic()
        xvmd.xvm("vm-param-set", f"uuid={xvmd.call('VM.get_uuid', s, vm)}", "name-description=woken")
    t.join(timeout=20)
    assert [e["ref"] for e in out["result"]["events"]] == [vm]
    assert out["result"]["events"][0]["snapshot"]["name_description"] == "woken"
    # Far below the 5 s safety poll: the wake-up itself (the benchmark
    # measures the real figure; this bound leaves room for a loaded machine).
    assert out["returned"] - changed < 2, out["returned"] - changed


def test_stopping_answers_waiters_at_once(xvmd):
    s = xvmd.login_root()
    token = xvmd.call("event.from", s, ["vm"], "", 0)["token"]
    out = {}
    t = threading.Thread(target=wait_in_thread, args=(xvmd, s, token, out))
    t.start()
    # The waiter's call must have reached the daemon before it stops (a loaded
    # host takes its time): the call blocks, so its thread is still alive.
    time.sleep(1.5)
    assert t.is_alive()
    t0 = time.monotonic()
    assert xvmd.stop() == 0
    t.join(timeout=20)
    # The waiter got its (empty) answer, and the daemon did not wait out its 20 s.
    assert out["result"]["events"] == [] and out["result"]["token"] == token
    assert time.monotonic() - t0 < 5
