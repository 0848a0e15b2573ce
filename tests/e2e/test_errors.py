# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bad input to a real start: each fails with exit 1 and a clear error (its
code shown), the VM stays halted and no process is left behind."""
import os
import subprocess

import pytest

from conftest import READY, XVM, qemu_pids


def start_fails(xvm, uuid, code, *env_args, env=None):
    err = xvm.fails("vm-start", f"uuid={uuid}", env=env)
    assert err.startswith(f"Error: {code}: "), err
    assert xvm.power(uuid) == "halted"
    assert xvm.listed_power(xvm.get(uuid, "name-label")) == "halted"
    xvm.assert_nothing_running()
    return err


def test_missing_kernel(xvm):
    uuid = xvm.guest("g1")
    xvm.ok("vm-param-set", f"uuid={uuid}", "PV-kernel=/nonexistent/vmlinuz")
    err = start_fails(xvm, uuid, "HYPERVISOR_ERROR")
    assert "/nonexistent/vmlinuz" in err and "No such file" in err, err


def test_corrupt_kernel(xvm, tmp_path):
    bad = tmp_path / "random.bin"
    # Under 1 KiB: QEMU takes a file that is neither ELF nor multiboot for an
    # old Linux image whose setup (at least 1 KiB) must fit in the file, so it
    # refuses this one whatever the random bytes (a bigger one may "boot").
    bad.write_bytes(os.urandom(1000))
    uuid = xvm.guest("g1")
    xvm.ok("vm-param-set", f"uuid={uuid}", f"PV-kernel={bad}")
    err = start_fails(xvm, uuid, "HYPERVISOR_ERROR")
    # QEMU exits at start-up; what it said is in the message.
    assert "QEMU exited" in err and "kernel" in err.lower(), err


def test_unknown_firmware(xvm):
    """Firmware applies to a firmware boot: a VM without PV-kernel."""
    uuid = xvm.install("g1")
    xvm.ok("vm-param-set", f"uuid={uuid}", "HVM-boot-params:firmware=bogus")
    err = start_fails(xvm, uuid, "VALUE_NOT_SUPPORTED")
    assert "bogus" in err, err


def test_unknown_firmware_with_direct_kernel_boot(xvm):
    uuid = xvm.guest("g1", "HVM-boot-params:firmware=bogus")
    start_fails(xvm, uuid, "VALUE_NOT_SUPPORTED")


def test_too_many_vcpus(xvm):
    uuid = xvm.guest("g1", "VCPUs-max=100000")
    err = start_fails(xvm, uuid, "VM_TOO_MANY_VCPUS")
    assert "100000" in err, err


@pytest.mark.parametrize("dynamic", [None, "128MiB"], ids=["all-limits", "static-max-only"])
def test_more_memory_than_the_host(xvm, dynamic):
    total = int(xvm.ok("host-list", "params=memory-total", "--minimal"))
    huge = 1 << 40      # 1 TiB: above this host's memory, and more than QEMU can map
    assert huge > total
    uuid = xvm.guest("g1")
    xvm.set_memory(uuid, str(huge), dynamic)
    start_fails(xvm, uuid, "HOST_NOT_ENOUGH_FREE_MEMORY")


def test_missing_qemu_binary(xvm):
    uuid = xvm.guest("g1")
    err = start_fails(xvm, uuid, "HYPERVISOR_ERROR", env={"XVM_QEMU_BINARY": "/nonexistent"})
    assert "/nonexistent" in err, err
    # The VM starts once QEMU is found again.
    xvm.ok("vm-start", f"uuid={uuid}")
    xvm.console("g1").wait(READY)


def test_two_starts_at_once(xvm):
    uuid = xvm.guest("g1")
    for attempt in range(3):
        procs = [subprocess.Popen([XVM, "vm-start", "vm=g1"], env=xvm.env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(p.wait(60), p.stderr.read()) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        assert sorted(rc for rc, _ in results) == [0, 1], results
        err = next(e for rc, e in results if rc == 1)
        assert err.startswith(("Error: OTHER_OPERATION_IN_PROGRESS", "Error: VM_BAD_POWER_STATE")), err
        assert xvm.power(uuid) == "running"
        assert len(qemu_pids(xvm.state_dir, uuid)) == 1, qemu_pids(xvm.state_dir, uuid)
        xvm.console("g1").wait(READY)
        xvm.ok("vm-shutdown", "vm=g1", "--force")
        xvm.assert_nothing_running()
