# SPDX-License-Identifier: LGPL-2.1-or-later
"""Async calls through xvmd: Async.VM.export_to_file and Async.VM.import_from_file
return their task at once; the task shows the progress, then the outcome."""
import json
import time


def wait(xvmd, s, task):
    """Polls the task until it ends; the progress figures seen while it was pending."""
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = xvmd.call("task.get_status", s, task)
        if status != "pending":
            return seen
        seen.append(xvmd.call("task.get_progress", s, task))
        time.sleep(0.02)
    raise AssertionError(f"task {task} still pending")


def test_async_export_and_import(xvmd, tmp_path):
    s = xvmd.login_root()
    vm = xvmd.call("VM.install", s, "sim test", "web1")
    sr = xvmd.xvm("sr-list", "name-label=Local storage", "--minimal")
    xvmd.xvm("vm-disk-add", "vm=web1", "disk-size=8MiB", f"sr-uuid={sr}")
    ova = tmp_path / "web1.ova"
    task = xvmd.call("Async.VM.export_to_file", s, vm, str(ova), {"compress": "true"})
    assert task.startswith("OpaqueRef:")
    seen = wait(xvmd, s, task)
    assert all(0 <= p <= 1 for p in seen) and seen == sorted(seen)
    rec = xvmd.call("task.get_record", s, task)
    assert (rec["status"], rec["progress"], rec["name_label"]) == ("success", 1.0, "Async.VM.export_to_file")
    assert ova.exists()
    task = xvmd.call("Async.VM.import_from_file", s, str(ova), "OpaqueRef:NULL", {})
    wait(xvmd, s, task)
    [copy] = json.loads(xvmd.call("task.get_result", s, task))
    assert xvmd.call("VM.get_name_label", s, copy) == "web1"
    # A failure is the task's error_info.
    task = xvmd.call("Async.VM.import_from_file", s, str(tmp_path / "none.ova"), "OpaqueRef:NULL", {})
    wait(xvmd, s, task)
    assert xvmd.call("task.get_status", s, task) == "failure"
    assert xvmd.call("task.get_error_info", s, task)[0] == "IMPORT_ERROR"
