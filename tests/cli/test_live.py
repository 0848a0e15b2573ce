# SPDX-License-Identifier: LGPL-2.1-or-later
"""Changing a running VM: vCPU hot-plug, the memory target, and the figures
vm-param-list shows of the current run."""


def params(xvm, uuid):
    """vm-param-list as a dict: it shows the current run's figures (from VM_metrics) as xe does."""
    out = xvm.ok("vm-param-list", f"uuid={uuid}")
    return {line.split("(")[0].strip(): line.split(": ", 1)[1] if ": " in line else ""
            for line in out.splitlines() if "(" in line}


def started(xvm, name="live"):
    uuid = xvm.install(name)
    xvm.ok("vm-start", f"uuid={uuid}")
    return uuid


def test_vcpu_hotplug_up_to_vcpus_max(xvm):
    uuid = started(xvm)
    assert params(xvm, uuid)["VCPUs-number"] == "1"
    xvm.ok("vm-vcpu-hotplug", f"uuid={uuid}", "new-vcpus=2")
    assert params(xvm, uuid)["VCPUs-number"] == "2"
    assert xvm.get(uuid, "VCPUs-at-startup") == "2", "the next boot keeps the number"
    before = xvm.snapshot()
    err = xvm.fails(1, "vm-vcpu-hotplug", f"uuid={uuid}", "new-vcpus=3")
    assert "INVALID_VALUE" in err and "between 1 and 2" in err
    assert xvm.snapshot() == before


def test_vcpu_hotplug_needs_a_running_vm_and_a_number(xvm):
    uuid = xvm.install("halted")
    assert "VM_BAD_POWER_STATE" in xvm.fails(1, "vm-vcpu-hotplug", f"uuid={uuid}", "new-vcpus=2")
    p = xvm.run("vm-vcpu-hotplug", f"uuid={uuid}", "new-vcpus=two")
    assert p.returncode == 2 and "new-vcpus" in p.stderr


def test_memory_target_moves_the_dynamic_range(xvm):
    uuid = started(xvm)
    xvm.ok("vm-memory-target-set", f"uuid={uuid}", "target=96MiB")
    mib = 1 << 20
    assert xvm.get(uuid, "memory-target") == str(96 * mib)
    assert xvm.get(uuid, "memory-dynamic-min") == str(96 * mib)
    assert xvm.get(uuid, "memory-dynamic-max") == str(96 * mib)
    assert params(xvm, uuid)["memory-actual"] == str(96 * mib)
    before = xvm.snapshot()
    err = xvm.fails(1, "vm-memory-target-set", f"uuid={uuid}", "target=1GiB")
    assert "INVALID_VALUE" in err, "above memory-static-max"
    assert xvm.snapshot() == before
    assert xvm.run("vm-memory-target-set", f"uuid={uuid}", "target=lots").returncode == 2


def test_param_list_shows_the_current_run(xvm):
    uuid = started(xvm)
    fields = params(xvm, uuid)
    assert int(fields["domid"]) >= 1
    assert fields["start-time"].endswith("Z") and not fields["start-time"].startswith("1970")
    assert fields["VCPUs-number"] == "1"
    assert fields["memory-actual"] == str(128 << 20)


def test_console_on_a_backend_without_one(xvm):
    uuid = started(xvm)
    err = xvm.fails(1, "console", f"uuid={uuid}")
    assert "no text console" in err
