# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM lifecycle through xvm.VM's methods on the simulated hypervisor,
in-process and through xvmd."""
import pytest

import xvm

pytestmark = pytest.mark.through_daemon


def test_install_start_stop_uninstall(conn, vm):
    assert vm.power_state == "Halted"
    vm.start()
    assert vm.power_state == "Running" and vm.domid >= 0
    vm.clean_shutdown()
    assert vm.power_state == "Halted"
    vm.uninstall()
    assert conn.vms.all() == []
    with pytest.raises(xvm.HandleInvalid):
        vm.name_label


def test_every_transition(vm):
    vm.start(paused=True)
    assert vm.power_state == "Paused"
    vm.unpause()
    assert vm.power_state == "Running"
    vm.pause()
    assert vm.power_state == "Paused"
    vm.unpause()
    vm.suspend()
    assert vm.power_state == "Suspended"
    vm.resume(paused=True)
    assert vm.power_state == "Paused"
    vm.hard_shutdown()
    assert vm.power_state == "Halted"
    vm.start(force=True)
    vm.suspend()
    vm.resume()
    assert vm.power_state == "Running"
    domid = vm.domid
    vm.clean_reboot()
    vm.hard_reboot()
    assert vm.power_state == "Running" and vm.domid != domid
    vm.hard_shutdown()
    vm.destroy()
    with pytest.raises(xvm.HandleInvalid):
        vm.power_state


def test_live_vcpus_and_memory(vm):
    vm.start()
    vm.set_vcpus_live(2)
    assert vm.metrics.VCPUs_number == 2
    vm.set_memory_target_live(96 * 2 ** 20)
    assert vm.memory_target == 96 * 2 ** 20
    with pytest.raises(TypeError):
        vm.set_vcpus_live("2")


def test_simulated_guest_actions(vm):
    vm.start()
    vm.simulate_guest_action("poweroff")
    assert vm.power_state == "Halted"          # actions_after_shutdown: destroy
    vm.start()
    domid = vm.domid
    vm.simulate_guest_action("reboot")
    assert vm.power_state == "Running" and vm.domid != domid


def test_help_is_useful():
    for name in ("start", "clean_shutdown", "hard_shutdown", "clean_reboot", "hard_reboot", "pause", "unpause",
                 "suspend", "resume", "destroy", "uninstall", "set_vcpus_live", "set_memory_target_live",
                 "simulate_guest_action"):
        method = getattr(xvm.VM, name)
        assert method.__text_signature__.startswith("($self")
        assert len(method.__doc__) > 40, name
    assert "paused=False, force=False" in xvm.VM.start.__text_signature__
    assert "VMBadPowerState" in xvm.VM.start.__doc__
    assert "sim:///" in xvm.connect.__doc__


def test_snapshot_checkpoint_revert(vm):
    snap = vm.snapshot("halted")
    assert snap.is_a_snapshot and snap.is_a_template and snap.snapshot_of == vm
    assert snap.power_state == "Halted" and snap in vm.snapshots
    vm.start()
    vm.set_memory_target_live(100 << 20)
    cp = vm.checkpoint("running")
    assert cp.power_state == "Suspended" and vm.power_state == "Running"
    vm.set_memory_target_live(80 << 20)
    cp.revert()
    assert vm.power_state == "Running" and vm.memory_target == 100 << 20
    snap.revert()
    assert vm.power_state == "Halted"
    tpl = snap.snapshot_export_to_template("from snapshot")
    assert tpl.is_a_template and not tpl.is_a_snapshot
    with pytest.raises(xvm.OperationNotAllowed):
        vm.revert()
    with pytest.raises(xvm.VMBadPowerState):
        vm.checkpoint("halted")
    cp.destroy()
    assert vm.snapshots == [snap]
