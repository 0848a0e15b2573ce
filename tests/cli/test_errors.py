# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bad input and failures: each gives a clear error, the right exit code, and changes nothing."""
import hashlib

import pytest


def test_unknown_parameter(xvm):
    uuid = xvm.install("x")
    before = xvm.snapshot()
    err = xvm.fails(2, "vm-start", "vm=x", "colour=red")
    assert "unknown parameter 'colour'" in err and "See 'xvm help vm-start'." in err
    err = xvm.fails(2, "vm-install", "template=sim test", "new-name-label=y", "colour=red")
    assert "unknown parameter 'colour'" in err
    assert xvm.snapshot() == before
    assert xvm.power(uuid) == "halted"


def test_malformed_map_key(xvm):
    uuid = xvm.install("x")
    before = xvm.snapshot()
    assert "missing map key" in xvm.fails(2, "vm-param-set", f"uuid={uuid}", "other-config:=x")
    assert "not a map" in xvm.fails(2, "vm-param-set", f"uuid={uuid}", "name-label:k=v")
    assert "not a map" in xvm.fails(2, "vm-list", "name-label:k=v")
    assert "expected name=value" in xvm.fails(2, "vm-param-set", f"uuid={uuid}", "name-label")
    assert xvm.snapshot() == before


def test_switch_not_taken(xvm):
    xvm.install("x")
    assert "does not take --force" in xvm.fails(2, "vm-pause", "vm=x", "--force")
    assert "exclude each other" in xvm.fails(2, "vm-list", "--json", "--minimal")


def test_api_error_format(xvm):
    xvm.install("x")
    p = xvm.run("vm-pause", "vm=x")
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert lines[0].startswith("Error: VM_BAD_POWER_STATE: ") and len(lines[0]) > len("Error: VM_BAD_POWER_STATE: ")
    assert lines[1].startswith("Parameters: ") and lines[1].count(", ") == 2
    assert p.stdout == ""


@pytest.mark.local_only("the daemon opened the state file before the test could spoil it")
def test_state_file_that_is_not_a_database(xvm):
    junk = b"this is not a database\n" * 100
    db = xvm.state_dir / "xvm.db"
    db.write_bytes(junk)
    for args in (["vm-list"], ["vm-install", "template=sim test", "new-name-label=x"]):
        err = xvm.fails(1, *args)
        assert "STORE_INVALID" in err, err
    assert hashlib.sha256(db.read_bytes()).digest() == hashlib.sha256(junk).digest()


@pytest.mark.local_only("XVM_HC_FAULT acts in the process that makes the hypercalls")
def test_fault_injection_on_start_leaves_vm_halted(xvm):
    uuid = xvm.install("f")
    host = xvm.ok("host-list", "--minimal")
    free = xvm.ok("host-param-get", f"uuid={host}", "param-name=memory-free")
    err = xvm.fails(1, "vm-start", "vm=f", env={"XVM_HC_FAULT": "domain_create:1:EIO"})
    assert err.startswith("Error: "), err
    assert xvm.power(uuid) == "halted"
    assert xvm.get(uuid, "domid") == "-1"
    assert xvm.get(uuid, "resident-on") == "<not in database>"
    # no leftover domain: its memory is free again, and the VM starts cleanly now
    assert xvm.ok("host-param-get", f"uuid={host}", "param-name=memory-free") == free
    xvm.ok("vm-start", "vm=f")
    assert xvm.power(uuid) == "running"
