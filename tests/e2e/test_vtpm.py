# SPDX-License-Identifier: LGPL-2.1-or-later
"""A vTPM under a real Linux (Debian's kernel, the busybox initramfs of
tests/linux booted with xvm.watch=tpm): the guest sees a TPM 2.0 with the
endorsement key swtpm_setup made, the same key across a restart and a
suspend/resume (the TPM's state persists), a checkpoint's revert resumes
the guest on the snapshot's copy of the TPM, and swtpm ends with the VM,
also when its QEMU is killed."""
import os
import re
import signal

from conftest import LINUX_CMDLINE, LINUX_INITRD, LINUX_KERNEL, LINUX_POWEROFF, procs_under, qemu_pid, wait_for

BOOT_TIMEOUT = 150
TPM = re.compile(r"XVM-LINUX TPM n=(?P<n>\d+) version=(?P<version>\S+) ek=(?P<ek>\S+) size=(?P<size>\d+)")


def tpm_guest(xvm, name, vtpm=True):
    for f in (LINUX_KERNEL, LINUX_INITRD):
        assert f and os.path.exists(f), f"missing Linux fixture {f!r} (meson test sets the paths)"
    uuid = xvm.guest(name, f"PV-ramdisk={LINUX_INITRD}", f"PV-args={LINUX_CMDLINE} xvm.watch=tpm",
                     kernel=LINUX_KERNEL)
    xvm.set_memory(uuid, "256MiB")
    if vtpm:
        xvm.ok("vtpm-create", f"vm-uuid={uuid}")
    return uuid


def swtpms(xvm):
    return [pid for pid, argv in procs_under(xvm.state_dir).items() if os.path.basename(argv[0]) == "swtpm"]


def booted_tpm(xvm, name):
    """The guest's first TPM report of this boot (its console from the start)."""
    return xvm.console(name).wait(TPM, timeout=BOOT_TIMEOUT)


def test_guest_without_a_vtpm_sees_none(xvm):
    tpm_guest(xvm, "plain", vtpm=False)
    xvm.ok("vm-start", "vm=plain")
    m = booted_tpm(xvm, "plain")
    assert (m["version"], m["ek"]) == ("NONE", "NONE")
    assert swtpms(xvm) == []
    xvm.ok("vm-shutdown", "vm=plain", "--force")
    xvm.assert_nothing_running()


def test_tpm2_state_persists_across_restart_and_suspend(xvm):
    uuid = tpm_guest(xvm, "tpm")
    xvm.ok("vm-start", "vm=tpm")
    c = xvm.console("tpm")
    m = c.wait(TPM, timeout=BOOT_TIMEOUT)
    assert m["version"] == "2", c.transcript()
    # A public key, not a 10-byte error: the EK swtpm_setup made is in the TPM.
    assert int(m["size"]) > 100, c.transcript()
    ek = m["ek"]
    assert len(swtpms(xvm)) == 1
    xvm.ok("vm-shutdown", "vm=tpm")
    c.wait(LINUX_POWEROFF, timeout=10)
    assert xvm.power(uuid) == "halted"
    xvm.assert_nothing_running()

    xvm.ok("vm-start", "vm=tpm")
    m = booted_tpm(xvm, "tpm")
    assert (m["version"], m["ek"]) == ("2", ek), "another TPM after a restart"

    xvm.ok("vm-suspend", "vm=tpm")
    assert xvm.power(uuid) == "suspended"
    wait_for(lambda: swtpms(xvm) == [], 10, "swtpm to end with the suspended VM")
    xvm.ok("vm-resume", "vm=tpm")
    c = xvm.console("tpm")
    # The guest goes on from where it was: later reports, answered by the restored TPM.
    m = c.wait(TPM, timeout=60)
    m = c.wait(TPM, timeout=60)
    assert int(m["n"]) > 0 and (m["version"], m["ek"]) == ("2", ek), c.transcript()
    xvm.ok("vm-shutdown", "vm=tpm", "--force")
    xvm.assert_nothing_running()


def test_checkpoint_revert_resumes_on_the_snapshots_tpm(xvm):
    uuid = tpm_guest(xvm, "tpm")
    xvm.ok("vm-start", "vm=tpm")
    c = xvm.console("tpm")
    ek = c.wait(TPM, timeout=BOOT_TIMEOUT)["ek"]
    before = int(c.wait(TPM, timeout=30)["n"])
    cp = xvm.ok("vm-checkpoint", "vm=tpm", "new-name-label=cp")
    assert xvm.power(uuid) == "running"
    snap_tpm = xvm.ok("vtpm-list", f"VM={cp}", "--minimal")
    assert snap_tpm and snap_tpm != xvm.get(uuid, "VTPMs")
    old = xvm.get(uuid, "VTPMs")
    xvm.ok("snapshot-revert", f"snapshot-uuid={cp}")
    assert xvm.power(uuid) == "running"
    now = xvm.get(uuid, "VTPMs")
    assert now and now not in (old, snap_tpm), "the VM's vTPM is no copy of the snapshot's"
    assert not os.path.exists(os.path.join(xvm.state_dir, "vtpm", old)), "the replaced TPM state is left"
    c2 = xvm.console("tpm")
    # Reports from around the checkpoint's instant on, by the same TPM.
    m = c2.wait(TPM, timeout=60)
    m = c2.wait(TPM, timeout=60)
    assert int(m["n"]) >= before and (m["version"], m["ek"]) == ("2", ek), c2.transcript()
    assert len(swtpms(xvm)) == 1
    xvm.ok("snapshot-destroy", f"snapshot-uuid={cp}")
    assert not os.path.exists(os.path.join(xvm.state_dir, "vtpm", snap_tpm))
    xvm.ok("vm-shutdown", "vm=tpm", "--force")
    xvm.assert_nothing_running()


def test_swtpm_goes_with_a_killed_qemu(xvm):
    uuid = tpm_guest(xvm, "tpm")
    xvm.ok("vm-start", "vm=tpm")
    assert booted_tpm(xvm, "tpm")["version"] == "2"
    assert len(swtpms(xvm)) == 1
    os.kill(qemu_pid(xvm.state_dir, uuid), signal.SIGKILL)
    wait_for(lambda: swtpms(xvm) == [], 10, "swtpm to end with its QEMU")
    xvm.ok("vm-shutdown", "vm=tpm", "--force")
    xvm.assert_nothing_running()
