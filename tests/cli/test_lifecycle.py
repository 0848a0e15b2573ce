# SPDX-License-Identifier: LGPL-2.1-or-later
"""Power operations, selectors, --multiple, guest actions, and refused transitions."""
import os

import pytest


def test_full_lifecycle(xvm):
    uuid = xvm.install("life")
    xvm.ok("vm-start", "vm=life")
    assert xvm.power(uuid) == "running"
    assert int(xvm.get(uuid, "domid")) >= 0
    xvm.ok("vm-pause", "vm=life")
    assert xvm.power(uuid) == "paused"
    xvm.ok("vm-unpause", f"uuid={uuid}")
    assert xvm.power(uuid) == "running"
    xvm.ok("vm-suspend", "vm=life")
    assert xvm.power(uuid) == "suspended"
    xvm.ok("vm-resume", "vm=life")
    assert xvm.power(uuid) == "running"
    xvm.ok("vm-reboot", "vm=life")
    assert xvm.power(uuid) == "running"
    xvm.ok("vm-reboot", "vm=life", "--force")
    assert xvm.power(uuid) == "running"
    xvm.ok("vm-shutdown", "vm=life")
    assert xvm.power(uuid) == "halted"
    assert xvm.get(uuid, "domid") == "-1"
    xvm.ok("vm-start", f"vm={uuid}")
    xvm.ok("vm-shutdown", f"vm={uuid}", "--force")
    assert xvm.power(uuid) == "halted"


def test_start_and_resume_paused(xvm):
    uuid = xvm.install("p")
    xvm.ok("vm-start", "vm=p", "paused=true")
    assert xvm.power(uuid) == "paused"
    xvm.ok("vm-unpause", "vm=p")
    xvm.ok("vm-suspend", "vm=p")
    xvm.ok("vm-resume", "vm=p", "paused=true")
    assert xvm.power(uuid) == "paused"
    xvm.ok("vm-shutdown", "vm=p", "--force")
    xvm.ok("vm-start", "vm=p", "--force")
    assert xvm.power(uuid) == "running"


@pytest.mark.parametrize("cmd,state", [
    ("vm-pause", "halted"), ("vm-unpause", "halted"), ("vm-suspend", "halted"),
    ("vm-resume", "halted"), ("vm-shutdown", "halted"),
])
def test_bad_power_state_changes_nothing(xvm, cmd, state):
    uuid = xvm.install("h")
    before = xvm.snapshot()
    err = xvm.fails(1, cmd, "vm=h")
    assert err.startswith("Error: VM_BAD_POWER_STATE: "), err
    assert "\nParameters: " in err
    params = err.split("Parameters: ")[1].strip().split(", ")
    assert params[0].startswith("OpaqueRef:") and params[2] == "halted", params
    assert xvm.power(uuid) == state
    assert xvm.snapshot() == before


def test_start_twice_is_bad_power_state(xvm):
    uuid = xvm.install("r")
    xvm.ok("vm-start", "vm=r")
    before = xvm.snapshot()
    err = xvm.fails(1, "vm-start", "vm=r")
    assert "VM_BAD_POWER_STATE" in err
    assert xvm.power(uuid) == "running"
    assert xvm.snapshot() == before


def test_templates_cannot_start(xvm):
    err = xvm.fails(1, "vm-start", "vm=sim test")
    assert "VM_IS_TEMPLATE" in err


def test_selectors(xvm):
    a1 = xvm.install("twin")
    a2 = xvm.install("twin")
    err = xvm.fails(1, "vm-start", "vm=twin")
    assert "2 VM objects match" in err and "--multiple" in err
    assert xvm.power(a1) == xvm.power(a2) == "halted"
    assert "no VM has the UUID or name-label" in xvm.fails(1, "vm-start", "vm=nobody")
    xvm.ok("vm-start", "vm=twin", "--multiple")
    assert xvm.power(a1) == xvm.power(a2) == "running"
    # field filters with --multiple
    xvm.ok("vm-shutdown", "power-state=running", "--multiple", "--force")
    assert xvm.power(a1) == xvm.power(a2) == "halted"
    assert "no VM matches" in xvm.fails(1, "vm-pause", "power-state=running", "--multiple")
    # a filter that matches one VM needs no --multiple
    xvm.ok("vm-param-set", f"uuid={a1}", "other-config:role=one")
    xvm.ok("vm-start", "other-config:role=one")
    assert (xvm.power(a1), xvm.power(a2)) == ("running", "halted")
    assert "not both" in xvm.fails(2, "vm-start", "vm=twin", f"uuid={a1}")


def test_guest_poweroff_and_crash_follow_actions_after(xvm):
    uuid = xvm.install("g")
    xvm.ok("vm-start", "vm=g")
    xvm.ok("vm-simulate-guest", "vm=g", "action=poweroff")     # actions-after-shutdown: destroy
    assert xvm.get(uuid, "actions-after-shutdown") == "destroy"
    assert xvm.power(uuid) == "halted"

    xvm.ok("vm-param-set", f"uuid={uuid}", "actions-after-crash=restart")
    xvm.ok("vm-start", "vm=g")
    xvm.ok("vm-simulate-guest", "vm=g", "action=crash")
    assert xvm.power(uuid) == "running"

    xvm.ok("vm-param-set", f"uuid={uuid}", "actions-after-crash=destroy")
    xvm.ok("vm-simulate-guest", "vm=g", "action=crash")
    assert xvm.power(uuid) == "halted"

    xvm.ok("vm-param-set", f"uuid={uuid}", "actions-after-crash=preserve")
    xvm.ok("vm-start", "vm=g")
    xvm.ok("vm-simulate-guest", "vm=g", "action=crash")
    assert xvm.power(uuid) == "paused"   # preserved: the crashed domain is kept, stopped

    xvm.ok("vm-shutdown", "vm=g", "--force")
    xvm.ok("vm-start", "vm=g")
    xvm.ok("vm-simulate-guest", "vm=g", "action=reboot")     # actions-after-reboot: restart
    assert xvm.power(uuid) == "running"

    xvm.ok("vm-param-set", f"uuid={uuid}", "actions-after-shutdown=restart")
    xvm.ok("vm-simulate-guest", "vm=g", "action=poweroff")
    assert xvm.power(uuid) == "running"
    err = xvm.fails(1, "vm-simulate-guest", "vm=g", "action=explode")
    assert "INVALID_VALUE" in err


def test_guest_action_needs_running_vm(xvm):
    xvm.install("h")
    err = xvm.fails(1, "vm-simulate-guest", "vm=h", "action=crash")
    assert "VM_BAD_POWER_STATE" in err


def test_uninstall(xvm):
    keep = xvm.install("keep")
    xvm.install("gone")
    xvm.ok("vm-start", "vm=gone")
    xvm.ok("vm-uninstall", "vm=gone")          # stdin is not a terminal: no prompt
    assert xvm.ok("vm-list", "--minimal") == keep
    xvm.ok("vm-uninstall", f"uuid={keep}", "--force")
    assert xvm.ok("vm-list", "--minimal") == ""
    templates = xvm.ok("template-list", "--minimal")
    assert "sim test" in xvm.ok("template-list", "params=name-label", "--minimal")
    assert xvm.fails(1, "vm-uninstall", "vm=nobody")
    assert xvm.ok("template-list", "--minimal") == templates


def test_uninstall_asks_at_a_terminal(xvm):
    uuid = xvm.install("asked")
    master, slave = os.openpty()
    try:
        os.write(master, b"no\n")
        p = xvm.run("vm-uninstall", "vm=asked", stdin=slave)
        assert p.returncode == 1
        assert "Type 'yes' to continue" in p.stderr and "Error: not confirmed" in p.stderr
        assert xvm.ok("vm-list", "--minimal") == uuid
        os.write(master, b"yes\n")
        p = xvm.run("vm-uninstall", "vm=asked", stdin=slave)
        assert p.returncode == 0, p.stderr
        assert xvm.ok("vm-list", "--minimal") == ""
    finally:
        os.close(master)
        os.close(slave)
