# SPDX-License-Identifier: LGPL-2.1-or-later
"""vm-param-list/get/set/add/remove/clear: scalars, maps, sets, memory units, refusals."""
import json

GiB = 1 << 30
MiB = 1 << 20


def test_param_list_has_every_field_with_markers(xvm):
    uuid = xvm.install("p")
    out = xvm.ok("vm-param-list", f"uuid={uuid}")
    lines = out.splitlines()
    assert lines[0] == f"uuid ( RO)" + " " * (lines[0].index(":") - len("uuid ( RO)")) + f": {uuid}"
    assert len({l.index(": ") for l in lines}) == 1
    for marker in ("name-label ( RW)", "power-state ( RO)", "other-config (MRW)", "tags (SRW)",
                   "allowed-operations (SRO)", "VCPUs-max ( RW)", "resident-on ( RO)"):
        assert any(l.strip().startswith(marker) for l in lines), marker
    rec = xvm.records("vm-param-list", f"uuid={uuid}")
    assert len(rec) == 1 and rec[0]["uuid"] == uuid


def test_set_several_fields_at_once(xvm):
    uuid = xvm.install("p")
    xvm.ok("vm-param-set", f"uuid={uuid}", "name-label=renamed", "name-description=a b c",
           "VCPUs-max=4", "actions-after-crash=PRESERVE", "other-config:owner=me", "tags=x,y")
    assert xvm.get(uuid, "name-label") == "renamed"
    assert xvm.get(uuid, "name-description") == "a b c"
    assert xvm.get(uuid, "VCPUs-max") == "4"
    assert xvm.get(uuid, "actions-after-crash") == "preserve"
    assert xvm.get(uuid, "other-config", "owner") == "me"
    assert xvm.get(uuid, "tags") == "x; y"
    assert json.loads(xvm.ok("vm-param-get", f"uuid={uuid}", "param-name=tags", "--json")) == ["x", "y"]


def test_map_key_set_replaces(xvm):
    uuid = xvm.install("p")
    xvm.ok("vm-param-set", f"uuid={uuid}", "other-config:k=1")
    xvm.ok("vm-param-set", f"uuid={uuid}", "other-config:k=2")
    assert xvm.get(uuid, "other-config", "k") == "2"


def test_memory_units(xvm):
    uuid = xvm.install("mem")
    xvm.ok("vm-param-set", f"uuid={uuid}", "memory-static-max=1GiB", "memory-dynamic-max=512MiB",
           "memory-dynamic-min=262144KiB")
    assert int(xvm.get(uuid, "memory-static-max")) == GiB
    assert int(xvm.get(uuid, "memory-dynamic-max")) == 512 * MiB
    assert int(xvm.get(uuid, "memory-dynamic-min")) == 256 * MiB
    xvm.ok("vm-param-set", f"uuid={uuid}", f"memory-dynamic-max={600 * MiB}")
    assert int(xvm.get(uuid, "memory-dynamic-max")) == 600 * MiB
    before = xvm.snapshot()
    assert "not a size" in xvm.fails(2, "vm-param-set", f"uuid={uuid}", "memory-static-max=1GB")
    assert xvm.snapshot() == before


def test_memory_constraint_violation(xvm):
    uuid = xvm.install("mem")
    before = xvm.snapshot()
    # dynamic-min above static-max breaks static_min <= dynamic_min <= dynamic_max <= static_max
    err = xvm.fails(1, "vm-param-set", f"uuid={uuid}", "memory-dynamic-min=64GiB")
    assert err.startswith("Error: MEMORY_CONSTRAINT_VIOLATION: "), err
    assert xvm.snapshot() == before


def test_read_only_refused_before_any_call(xvm):
    uuid = xvm.install("ro")
    before = xvm.snapshot()
    for arg in ("power-state=Running", "domid=5", "is-a-snapshot=true", "allowed-operations=start"):
        err = xvm.fails(2, "vm-param-set", f"uuid={uuid}", arg)
        assert "read-only" in err, err
    err = xvm.fails(2, "vm-param-add", f"uuid={uuid}", "param-name=bios-strings", "a=b")
    assert "read-only" in err
    assert xvm.snapshot() == before


def test_bad_values_are_usage_errors(xvm):
    uuid = xvm.install("bad")
    before = xvm.snapshot()
    cases = [
        ["VCPUs-max=four", "not an integer"],
        ["is-a-template=maybe", "not true or false"],
        ["actions-after-crash=explode", "expected one of"],
        ["name-label:k=v", "not a map"],
        ["other-config:=v", "missing map key"],
        ["other-config=v", "one key at a time"],
        ["no-such-field=1", "unknown parameter"],
    ]
    for arg, says in cases:
        err = xvm.fails(2, "vm-param-set", f"uuid={uuid}", arg)
        assert says in err, (arg, err)
    assert xvm.snapshot() == before


def test_add_remove_clear_map(xvm):
    uuid = xvm.install("m")
    xvm.ok("vm-param-add", f"uuid={uuid}", "param-name=other-config", "a=1", "b=2")
    assert xvm.get(uuid, "other-config", "a") == "1"
    assert xvm.get(uuid, "other-config", "b") == "2"
    err = xvm.fails(1, "vm-param-add", f"uuid={uuid}", "param-name=other-config", "a=3")
    assert "MAP_DUPLICATE_KEY" in err
    xvm.ok("vm-param-remove", f"uuid={uuid}", "param-name=other-config", "param-key=a")
    assert "key 'a' is not in" in xvm.fails(1, "vm-param-get", f"uuid={uuid}", "param-name=other-config",
                                               "param-key=a")
    xvm.ok("vm-param-clear", f"uuid={uuid}", "param-name=other-config")
    assert xvm.get(uuid, "other-config") == ""
    assert json.loads(xvm.ok("vm-param-get", f"uuid={uuid}", "param-name=other-config", "--json")) == {}


def test_add_remove_clear_set_and_scalar(xvm):
    uuid = xvm.install("s")
    xvm.ok("vm-param-add", f"uuid={uuid}", "param-name=tags", "param-key=red")
    xvm.ok("vm-param-add", f"uuid={uuid}", "param-name=tags", "param-key=blue")
    assert set(xvm.get(uuid, "tags").split("; ")) == {"red", "blue"}
    xvm.ok("vm-param-remove", f"uuid={uuid}", "param-name=tags", "param-key=red")
    assert xvm.get(uuid, "tags") == "blue"
    xvm.ok("vm-param-clear", f"uuid={uuid}", "param-name=tags")
    assert xvm.get(uuid, "tags") == ""
    xvm.ok("vm-param-clear", f"uuid={uuid}", "param-name=name-description")
    assert xvm.get(uuid, "name-description") == ""
    assert "no empty value" in xvm.fails(2, "vm-param-clear", f"uuid={uuid}", "param-name=VCPUs-max")
    assert "read-only" in xvm.fails(2, "vm-param-clear", f"uuid={uuid}", "param-name=power-state")


def test_reference_fields_by_uuid_or_name(xvm):
    uuid = xvm.install("r")
    host = xvm.ok("host-list", "--minimal")
    name = xvm.ok("host-list", "params=name-label", "--minimal")
    xvm.ok("vm-param-set", f"uuid={uuid}", f"affinity={host}")
    assert xvm.get(uuid, "affinity") == host
    xvm.ok("vm-param-clear", f"uuid={uuid}", "param-name=affinity")
    assert xvm.get(uuid, "affinity") == "<not in database>"
    xvm.ok("vm-param-set", f"uuid={uuid}", f"affinity={name}")
    assert xvm.get(uuid, "affinity") == host
    assert "no host has" in xvm.fails(1, "vm-param-set", f"uuid={uuid}", "affinity=nowhere")


def test_bad_uuid(xvm):
    xvm.install("x")
    before = xvm.snapshot()
    for uuid in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        err = xvm.fails(1, "vm-param-set", f"uuid={uuid}", "name-label=y")
        assert "UUID_INVALID" in err or "HANDLE_INVALID" in err, err
        assert xvm.fails(1, "vm-param-list", f"uuid={uuid}")
    assert xvm.snapshot() == before


def test_host_param_set(xvm):
    host = xvm.ok("host-list", "--minimal")
    xvm.ok("host-param-set", f"uuid={host}", "name-description=the box", "other-config:rack=3")
    assert xvm.ok("host-param-get", f"uuid={host}", "param-name=name-description") == "the box"
    assert xvm.ok("host-param-get", f"uuid={host}", "param-name=other-config", "param-key=rack") == "3"
