# SPDX-License-Identifier: LGPL-2.1-or-later
"""The daemon applies the VMs' actions as guests act, with no client call, and
a restarted daemon re-adopts running VMs as they are."""
import sqlite3
import time


def stored(d, uuid, field):
    """A VM field read straight from the store: no call that could reconcile."""
    db = sqlite3.connect(f"file:{d.state_dir}/xvm.db?mode=ro", uri=True)
    try:
        return db.execute(f'SELECT "{field}" FROM VM WHERE uuid = ?', (uuid,)).fetchone()[0]
    finally:
        db.close()


def wait_stored(d, uuid, field, want, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stored(d, uuid, field) == want:
            return True
        time.sleep(0.02)
    return False


def test_guest_actions_are_applied_without_a_call(xvmd):
    s = xvmd.login_root()
    halts = xvmd.call("VM.install", s, "sim test", "halts")
    restarts = xvmd.call("VM.install", s, "sim test", "restarts")
    xvmd.call("VM.set_actions_after_crash", s, restarts, "restart")
    for vm in (halts, restarts):
        xvmd.call("VM.start", s, vm, False, False)
    hu, ru = xvmd.call("VM.get_uuid", s, halts), xvmd.call("VM.get_uuid", s, restarts)
    # The guests act on their own (the test hook, run by another process).
    xvmd.xvm("vm-simulate-guest", f"uuid={hu}", "action=poweroff")
    xvmd.xvm("vm-simulate-guest", f"uuid={ru}", "action=crash")
    assert wait_stored(xvmd, hu, "power_state", "Halted")
    deadline = time.monotonic() + 5
    while "VM restarts: the guest crashed; restarted" not in xvmd.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "VM restarts: the guest crashed; restarted" in xvmd.log.read_text()
    assert stored(xvmd, ru, "power_state") == "Running"


def test_restart_readopts_running_vms(xvmd):
    s = xvmd.login_root()
    keeps = xvmd.call("VM.install", s, "sim test", "keeps")
    stops = xvmd.call("VM.install", s, "sim test", "stops")
    for vm in (keeps, stops):
        xvmd.call("VM.start", s, vm, False, False)
    ku, su = xvmd.call("VM.get_uuid", s, keeps), xvmd.call("VM.get_uuid", s, stops)
    domid = stored(xvmd, ku, "domid")
    assert xvmd.stop() == 0
    # While no daemon runs, one guest powers off (the local CLI's hook call
    # reconciles nothing after it).
    xvmd.xvm("vm-simulate-guest", f"uuid={su}", "action=poweroff")
    assert stored(xvmd, su, "power_state") == "Running"
    xvmd.start()
    assert wait_stored(xvmd, su, "power_state", "Halted")
    assert stored(xvmd, ku, "power_state") == "Running" and stored(xvmd, ku, "domid") == domid
    s = xvmd.login_root()
    assert xvmd.call("VM.get_power_state", s, keeps) == "Running"


def test_a_vm_deleted_while_busy_breaks_no_later_call(xvmd):
    """A VM that an operation held at a sync is looked at again later: if it
    was deleted meanwhile, that is no error for whatever call comes next."""
    s = xvmd.login_root()
    for i in range(5):
        vm = xvmd.call("VM.install", s, "sim test", f"gone{i}")
        xvmd.call("VM.start", s, vm, False, False)
        uuid = xvmd.call("VM.get_uuid", s, vm)
        # Another process: the guest acts, then the VM goes, both while the
        # daemon's monitor may find it held.
        xvmd.xvm("vm-simulate-guest", f"uuid={uuid}", "action=poweroff")
        xvmd.xvm("vm-uninstall", f"uuid={uuid}", "--force")
        for _ in range(5):
            assert isinstance(xvmd.call("VM.get_all", s), list)
            time.sleep(0.01)
    assert "monitor:" not in xvmd.log.read_text()
