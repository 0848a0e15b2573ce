# SPDX-License-Identifier: LGPL-2.1-or-later
"""The VM lifecycle of a real guest (the project's test guest, direct kernel
boot under QEMU/TCG), driven only through the `xvm` CLI. Every command is a
new CLI process, so every test also checks that a VM started by one process
is re-adopted and controlled by the next."""
import os
import re
import time

import pytest

from conftest import MiB, POWEROFF, READY, TICK, qemu_pid, qmp_query, vcpu_threads, wait_for


def test_start_shows_configured_vcpus_and_memory(xvm):
    uuid = xvm.guest("g1", "VCPUs-max=3", "VCPUs-at-startup=2")
    xvm.set_memory(uuid, "96MiB")
    xvm.ok("vm-start", "vm=g1")
    m = xvm.console("g1").wait(READY)
    assert (m["vcpus"], m["memory"]) == ("2", "96MiB")

    # The CLI that started it has exited; QEMU lives on, and later CLIs see it.
    pid = qemu_pid(xvm.state_dir, uuid)
    with open(f"/proc/{pid}/status") as f:
        ppid = int(re.search(r"^PPid:\s*(\d+)", f.read(), re.M)[1])
    with open(f"/proc/{ppid}/cmdline", "rb") as f:
        parent = f.read().split(b"\0")[0].decode()
    assert parent.endswith("xvm-qemu-monitor"), f"QEMU's parent is {parent}, not the monitor helper"
    assert xvm.records("vm-list") == [
        {"uuid": uuid, "name-label": "g1", "power-state": "Running"}]
    assert xvm.ok("vm-list", "power-state=running", "--minimal") == uuid
    rec = xvm.params(uuid)
    assert rec["power-state"] == "Running"
    assert isinstance(rec["domid"], int) and rec["domid"] > 0, rec["domid"]
    assert rec["start-time"] and not rec["start-time"].startswith("1970"), rec["start-time"]
    assert rec["VCPUs-number"] == 2
    assert rec["memory-actual"] == 96 * MiB

    # The guest keeps running across CLI processes: its ticks go on.
    c = xvm.console("g1")
    boot, n = c.last_tick()
    assert boot == m["boot"]
    assert c.last_tick()[1] > n

    xvm.ok("vm-shutdown", "vm=g1", "--force")
    assert xvm.power(uuid) == "halted"
    assert c.ended() == 0
    xvm.assert_nothing_running()
    rec = xvm.params(uuid)
    assert rec["domid"] == -1, rec["domid"]


def test_start_paused_then_unpause(xvm):
    uuid = xvm.guest("g1")
    xvm.ok("vm-start", "vm=g1", "paused=true")
    assert xvm.power(uuid) == "paused"
    assert xvm.listed_power("g1") == "paused"
    assert len(xvm.qemu(uuid)) == 1
    c = xvm.console("g1")
    early = c.read_for(1.0)
    assert not any(READY.search(line) for line in early), early
    xvm.ok("vm-unpause", "vm=g1")
    assert xvm.power(uuid) == "running"
    assert c.wait(READY)["vcpus"] == "1"
    c.wait(TICK)


def test_pause_stops_ticks_and_unpause_resumes_them(xvm):
    uuid = xvm.guest("g1")
    xvm.ok("vm-start", "vm=g1")
    c = xvm.console("g1")
    boot = c.wait(READY)["boot"]
    c.wait(TICK)
    xvm.ok("vm-pause", "vm=g1")
    assert xvm.power(uuid) == "paused"
    # What was printed before the pause may still be in flight; then nothing.
    c.read_for(0.3)
    during = c.read_for(1.2)
    assert not any(TICK.search(line) for line in during), f"ticks while paused: {during}"
    xvm.ok("vm-unpause", "vm=g1")
    assert xvm.power(uuid) == "running"
    b, n = c.last_tick()
    assert b == boot
    assert c.last_tick()[1] == n + 1


def test_suspend_resume_keeps_the_boot(xvm):
    uuid = xvm.guest("g1")
    xvm.ok("vm-start", "vm=g1")
    c = xvm.console("g1")
    boot = c.wait(READY)["boot"]
    for _ in range(3):
        _, n = c.last_tick()
    xvm.ok("vm-suspend", "vm=g1")
    assert xvm.power(uuid) == "suspended"
    assert xvm.listed_power("g1") == "suspended"
    assert c.ended() == 0
    xvm.assert_nothing_running()            # no QEMU while suspended

    xvm.ok("vm-resume", "vm=g1")
    assert xvm.power(uuid) == "running"
    b, n2 = xvm.console("g1").last_tick()
    assert b == boot, "resume booted the guest afresh"
    assert n2 > n


def test_clean_shutdown_goes_through_the_guest(xvm):
    uuid = xvm.guest("g1")
    xvm.ok("vm-start", "vm=g1")
    c = xvm.console("g1")
    c.wait(TICK)
    pid = qemu_pid(xvm.state_dir, uuid)
    xvm.ok("vm-shutdown", "vm=g1")
    assert xvm.power(uuid) == "halted"
    c.wait(POWEROFF, timeout=5)
    assert c.ended() == 0
    assert not os.path.exists(f"/proc/{pid}/status") or "zombie" in open(f"/proc/{pid}/status").read()
    xvm.assert_nothing_running()


def test_hard_shutdown_is_immediate(xvm):
    uuid = xvm.guest("g1")
    xvm.ok("vm-start", "vm=g1")
    c = xvm.console("g1")
    c.wait(TICK)
    t0 = time.monotonic()
    xvm.ok("vm-shutdown", "vm=g1", "--force")
    assert time.monotonic() - t0 < 5
    assert xvm.power(uuid) == "halted"
    c.ended()
    assert not any(POWEROFF.search(line) for line in c.lines), "a hard shutdown asked the guest"
    xvm.assert_nothing_running()


@pytest.mark.parametrize("force", [True, False], ids=["hard", "clean"])
def test_reboot_boots_afresh(xvm, force):
    uuid = xvm.guest("g1")
    xvm.ok("vm-start", "vm=g1")
    boots = [xvm.console("g1").wait(READY)["boot"]]
    for _ in range(2):
        xvm.ok("vm-reboot", "vm=g1", *(["--force"] if force else []))
        assert xvm.power(uuid) == "running"
        c = xvm.console("g1")
        boots.append(c.wait(READY)["boot"])
        c.wait(TICK)
    assert len(set(boots)) == 3, boots
    assert len(xvm.qemu(uuid)) == 1


def test_guest_poweroff_destroy(xvm):
    uuid = xvm.guest("g1", "PV-args=poweroff", "actions-after-shutdown=destroy")
    xvm.ok("vm-start", "vm=g1")
    # Nothing but listing: the VM halts on its own.
    xvm.wait_power("g1", "halted")
    assert xvm.power(uuid) == "halted"
    xvm.assert_nothing_running()


def test_guest_poweroff_restart(xvm):
    uuid = xvm.guest("g1", "PV-args=poweroff", "actions-after-shutdown=restart")
    xvm.ok("vm-start", "vm=g1")
    c = xvm.console("g1")
    first = c.wait(READY)["boot"]
    c.wait(POWEROFF)
    # The guest powers off again at once on every boot: look for a later boot
    # through vm-list and the console of whatever run is current.
    def new_boot():
        xvm.ok("vm-list")
        lines = xvm.run("console", "vm=g1", timeout=30)
        ids = {m["boot"] for m in READY.finditer(lines.stdout)}
        return ids - {first}
    wait_for(new_boot, 20, "a new boot after the guest's own poweroff")
    xvm.ok("vm-param-set", f"uuid={uuid}", "actions-after-shutdown=destroy")
    xvm.wait_power("g1", "halted")
    xvm.assert_nothing_running()


@pytest.mark.parametrize("action,state", [("destroy", "halted"), ("restart", "running"), ("preserve", "paused")])
def test_guest_panic(xvm, action, state):
    uuid = xvm.guest("g1", "PV-args=panic", f"actions-after-crash={action}")
    xvm.ok("vm-start", "vm=g1")
    c = xvm.console("g1")
    first = c.wait(READY)["boot"]
    if action == "restart":
        # It panics again on every boot; a new boot is the proof. Then stop it.
        c2 = None
        def rebooted():
            nonlocal c2
            xvm.ok("vm-list")
            c2 = xvm.console("g1")
            got = [READY.search(line) for line in c2.read_for(1.0)]
            return any(m and m["boot"] != first for m in got)
        wait_for(rebooted, 20, "a new boot after the panic")
        assert xvm.listed_power("g1") in ("running", "halted")
        xvm.ok("vm-param-set", f"uuid={uuid}", "actions-after-crash=destroy")
        xvm.wait_power("g1", "halted")
    else:
        xvm.wait_power("g1", state)
        if action == "preserve":
            assert len(xvm.qemu(uuid)) == 1, "a preserved crashed VM keeps its QEMU"
            time.sleep(0.5)
            assert xvm.listed_power("g1") == "paused"
            xvm.ok("vm-shutdown", "vm=g1", "--force")
    assert xvm.power(uuid) == "halted"
    xvm.assert_nothing_running()


@pytest.mark.parametrize("action,state", [("destroy", "halted"), ("restart", "running"), ("preserve", "paused")])
def test_qemu_killed(xvm, action, state):
    """`vm-simulate-guest action=crash` kills QEMU; the VM follows
    actions-after-crash. preserve keeps the dead domain's record, shown
    paused, for inspection: it cannot run on, but a hard reboot starts afresh."""
    uuid = xvm.guest("g1", f"actions-after-crash={action}")
    xvm.ok("vm-start", "vm=g1")
    first = xvm.console("g1").wait(READY)["boot"]
    pid = qemu_pid(xvm.state_dir, uuid)
    xvm.ok("vm-simulate-guest", "action=crash", "vm=g1")
    wait_for(lambda: not os.path.exists(f"/proc/{pid}/cmdline") or not open(f"/proc/{pid}/cmdline").read(),
             10, "the killed QEMU to go")
    xvm.wait_power("g1", state)
    if action == "preserve":
        assert xvm.qemu(uuid) == []
        err = xvm.fails("vm-unpause", "vm=g1")
        assert err.startswith("Error: OPERATION_NOT_ALLOWED: "), err
        assert xvm.listed_power("g1") == "paused"
        xvm.ok("vm-reboot", "vm=g1", "--force")
        state = "running"
    if state == "running":
        c = xvm.console("g1")
        assert c.wait(READY)["boot"] != first
        c.wait(TICK)
        assert len(xvm.qemu(uuid)) == 1
        xvm.ok("vm-shutdown", "vm=g1", "--force")
    assert xvm.power(uuid) == "halted"
    xvm.assert_nothing_running()


def test_vcpu_hotplug(xvm):
    uuid = xvm.guest("g1", "VCPUs-max=2", "VCPUs-at-startup=1")
    xvm.ok("vm-start", "vm=g1")
    assert xvm.console("g1").wait(READY)["vcpus"] == "1"
    pid = qemu_pid(xvm.state_dir, uuid)
    assert len(vcpu_threads(pid)) == 1, vcpu_threads(pid)
    assert xvm.params(uuid)["VCPUs-number"] == 1
    xvm.ok("vm-vcpu-hotplug", "new-vcpus=2", "vm=g1")
    assert xvm.params(uuid)["VCPUs-number"] == 2
    dom = xvm.params(uuid)["domid"]
    cpus = qmp_query(os.path.join(xvm.state_dir, "run", "qemu", str(dom), "qmp.sock"), "query-cpus-fast")
    assert len(cpus) == 2, cpus
    assert len(vcpu_threads(pid)) == 2, vcpu_threads(pid)
    # Above VCPUs-max: refused, nothing changes.
    err = xvm.fails("vm-vcpu-hotplug", "new-vcpus=3", "vm=g1")
    assert "VCPUs" in err or "vcpus" in err.lower(), err
    assert xvm.params(uuid)["VCPUs-number"] == 2
    xvm.console("g1").wait(TICK)


def test_vcpu_pinning(xvm):
    """VCPUs-params:mask=0 pins every vCPU thread to host CPU 0, hot-plugged ones too."""
    uuid = xvm.guest("g1", "VCPUs-max=2", "VCPUs-at-startup=1", "VCPUs-params:mask=0")
    xvm.ok("vm-start", "vm=g1")
    xvm.console("g1").wait(READY)
    pid = qemu_pid(xvm.state_dir, uuid)
    assert vcpu_threads(pid) == {"CPU 0/TCG": "0"}
    xvm.ok("vm-vcpu-hotplug", "new-vcpus=2", "vm=g1")
    assert vcpu_threads(pid) == {"CPU 0/TCG": "0", "CPU 1/TCG": "0"}


def test_memory_target_of_a_guest_without_balloon(xvm):
    """The test guest has no balloon driver: the target is recorded, the
    guest keeps its memory (memory-actual is what the guest has). The Linux
    test checks a guest that obeys."""
    uuid = xvm.guest("g1")
    xvm.ok("vm-start", "vm=g1")
    xvm.console("g1").wait(READY)
    xvm.ok("vm-memory-target-set", "target=64MiB", "vm=g1")
    rec = xvm.params(uuid)
    assert rec["memory-target"] == 64 * MiB
    assert rec["memory-actual"] in (64 * MiB, 128 * MiB)
    # Above memory-static-max: refused.
    xvm.fails("vm-memory-target-set", "target=1GiB", "vm=g1")
    assert xvm.params(uuid)["memory-target"] == 64 * MiB


def test_uninstall_running_vm_leaves_nothing(xvm):
    uuid = xvm.guest("g1")
    xvm.ok("vm-start", "vm=g1")
    xvm.console("g1").wait(TICK)
    assert len(xvm.qemu(uuid)) == 1
    xvm.ok("vm-uninstall", "vm=g1", "--force")
    assert xvm.ok("vm-list", "--minimal") == ""
    xvm.assert_nothing_running()
    run = os.path.join(xvm.state_dir, "run", "qemu")
    socks = [os.path.join(d, f) for d, _, fs in os.walk(run) for f in fs if f.endswith(".sock")]
    assert socks == [], socks


def test_metrics_fields_through_param_get(xvm):
    uuid = xvm.guest("g1")
    xvm.ok("vm-start", "vm=g1")
    assert xvm.get(uuid, "VCPUs-number") == "1"
    assert xvm.get(uuid, "memory-actual") == str(128 * MiB)
    assert xvm.get(uuid, "start-time").endswith("Z")
