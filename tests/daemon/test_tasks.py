# SPDX-License-Identifier: LGPL-2.1-or-later
"""Async.* calls and their tasks: status, progress, result, error_info, cancel, destroy."""
import time

import pytest

from conftest import RpcError


def wait_task(d, s, task, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rec = d.call("task.get_record", s, task)
        if rec["status"] not in ("pending", "cancelling"):
            return rec
        time.sleep(0.01)
    raise AssertionError(f"task {task} still {rec['status']}")


def test_async_call_succeeds_with_a_result(xvmd):
    s = xvmd.login_root()
    task = xvmd.call("Async.VM.install", s, "sim test", "a1")
    assert task.startswith("OpaqueRef:")
    rec = wait_task(xvmd, s, task)
    assert rec["status"] == "success" and rec["progress"] == 1.0 and rec["error_info"] == []
    assert rec["name_label"] == "Async.VM.install" and rec["finished"] >= rec["created"]
    vm = rec["result"]
    assert xvmd.call("VM.get_name_label", s, vm) == "a1"
    start = xvmd.call("Async.VM.start", s, vm, False, False)
    assert wait_task(xvmd, s, start)["result"] == ""
    assert xvmd.call("VM.get_power_state", s, vm) == "Running"
    assert start in xvmd.call("task.get_all", s)
    # The same task is in the store: the local CLI lists it.
    assert "success" in xvmd.xvm("task-list", f"uuid={xvmd.call('task.get_uuid', s, start)}", "params=status")


def test_async_failure_has_error_info(xvmd):
    s = xvmd.login_root()
    vm = xvmd.call("VM.install", s, "sim test", "f1")
    xvmd.call("VM.start", s, vm, False, False)
    rec = wait_task(xvmd, s, xvmd.call("Async.VM.start", s, vm, False, False))
    assert rec["status"] == "failure"
    assert rec["error_info"][:2] == ["VM_BAD_POWER_STATE", vm]
    rec = wait_task(xvmd, s, xvmd.call("Async.VM.start", s, vm))
    assert rec["error_info"][0] == "MESSAGE_PARAMETER_COUNT_MISMATCH"


def test_unknown_async_methods_fail_at_once(xvmd):
    s = xvmd.login_root()
    for m in ("Async.VM.frobnicate", "Async.Async.VM.start", "Async.", "Async.session.logout"):
        with pytest.raises(RpcError) as e:
            xvmd.call(m, s)
        assert e.value.code == "MESSAGE_METHOD_UNKNOWN", m


def test_cancel_and_destroy(xvmd):
    s = xvmd.login_root()
    vms = [xvmd.call("VM.install", s, "sim test", f"c{i}") for i in range(12)]
    # Eight waiting Async.event.from calls hold the eight runners: what
    # comes next waits in the queue, and a cancel takes it off.
    token = xvmd.call("event.from", s, ["host"], "", 0)["token"]
    waits = [xvmd.call("Async.event.from", s, ["host"], token, 30) for _ in range(8)]
    time.sleep(0.2)
    tasks = [xvmd.call("Async.VM.start", s, vm, False, False) for vm in vms]
    for t in tasks[:6]:
        assert xvmd.call("task.cancel", s, t) is None
        assert xvmd.call("task.get_status", s, t) == "cancelled"
    xvmd.call("event.inject", s, "host", xvmd.call("host.get_all", s)[0])  # the waits end
    for w in waits:
        assert wait_task(xvmd, s, w)["status"] == "success"
    for i, (vm, t) in enumerate(zip(vms, tasks)):
        rec = wait_task(xvmd, s, t)
        power = xvmd.call("VM.get_power_state", s, vm)
        if i < 6:
            assert rec["error_info"] == ["TASK_CANCELLED", t] and power == "Halted"
        else:
            assert rec["status"] == "success" and power == "Running", rec
    done = tasks[-1]
    with pytest.raises(RpcError) as e:
        xvmd.call("task.cancel", s, done)
    assert e.value.code == "OPERATION_NOT_ALLOWED"
    xvmd.call("task.destroy", s, done)
    with pytest.raises(RpcError) as e:
        xvmd.call("task.get_record", s, done)
    assert e.value.code == "HANDLE_INVALID"
    with pytest.raises(RpcError) as e:
        xvmd.call("task.cancel", s, "OpaqueRef:nope")
    assert e.value.code == "HANDLE_INVALID"
