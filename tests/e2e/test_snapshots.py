# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checkpoints of a real guest (the test guest, direct kernel boot under
QEMU/TCG): vm-checkpoint leaves the guest running; snapshot-revert brings
back the instant of the checkpoint, memory and all: the guest's tick counter
goes back to where it was, in the same boot, and counts on from there."""
from conftest import READY, TICK


def ticks_until_back(c, boot, low, high, timeout=30.0):
    """Reads ticks until one of `boot` lies in [low, high): the guest went back."""
    seen = []
    while True:
        b, n = c.last_tick(timeout)
        seen.append((b, n))
        assert b == boot, f"the revert booted the guest afresh: {seen}"
        if low <= n < high:
            return n
        assert len(seen) < 200, f"the ticks never went back to [{low}, {high}): {seen}"


def test_checkpoint_runs_on_and_revert_resumes_from_it(xvm):
    uuid = xvm.guest("g1")
    xvm.ok("vm-start", "vm=g1")
    c = xvm.console("g1")
    boot = c.wait(READY)["boot"]
    _, before = c.last_tick()
    pid = xvm.qemu(uuid)

    cp = xvm.ok("vm-checkpoint", "vm=g1", "new-name-label=cp")
    assert xvm.power(uuid) == "running"
    assert xvm.qemu(uuid) == pid, "the checkpoint kept the guest's QEMU"
    assert xvm.ok("snapshot-param-get", f"uuid={cp}", "param-name=power-state") == "suspended"
    # The guest runs on past the checkpoint.
    later = before
    while later < before + 3:
        b, later = c.last_tick()
        assert b == boot

    xvm.ok("snapshot-revert", f"snapshot-uuid={cp}")
    assert xvm.power(uuid) == "running"
    assert c.ended() == 0, "the guest that ran on is gone"
    assert xvm.qemu(uuid) != pid
    c2 = xvm.console("g1")
    n = ticks_until_back(c2, boot, before, later)
    assert c2.last_tick() == (boot, n + 1), "the resumed guest counts on"

    # The checkpoint stays: a second revert goes back to the same instant.
    xvm.ok("snapshot-revert", f"snapshot-uuid={cp}")
    ticks_until_back(xvm.console("g1"), boot, before, later)
    xvm.ok("snapshot-destroy", f"snapshot-uuid={cp}")
    xvm.ok("vm-shutdown", "vm=g1", "--force")
    xvm.assert_nothing_running()
