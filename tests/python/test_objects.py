# SPDX-License-Identifier: LGPL-2.1-or-later
"""The XenAPI classes: generated types, fields as typed attributes, RO/RW
rules, records, collections, equality, map and set helpers, call()."""
import datetime
import gc
import sys

import pytest

import xvm

CLASSES = ["VM", "VDI", "SR", "VBD", "VIF", "network", "host", "pool", "task", "console", "VM_metrics", "PBD", "VTPM"]


def test_every_class_is_generated():
    for name in CLASSES:
        cls = getattr(xvm, name)
        assert issubclass(cls, xvm.XenObject)
        assert xvm.classes[name] is cls
        assert cls.__module__ == "xvm" and cls.__name__ == name
        assert "uuid" in cls.fields


def test_field_metadata():
    ps = xvm.VM.fields["power_state"]
    assert ps == ("power_state", "enum", None, None, ("Halted", "Paused", "Running", "Suspended"),
                  False, ps.description)
    assert xvm.VM.fields["name_label"].writable
    assert xvm.VM.fields["VBDs"].elem_type == "ref" and xvm.VM.fields["VBDs"].ref_class == "VBD"
    assert "read-only" in xvm.VM.power_state.__doc__
    assert "read-write" in xvm.VM.name_label.__doc__
    with pytest.raises(TypeError):
        xvm.VM.fields["x"] = 1


def test_fields_are_typed(conn, vm):
    assert vm.name_label == "vm1"
    assert vm.power_state == "Halted"
    assert vm.VCPUs_max == 2 and isinstance(vm.VCPUs_max, int)
    assert vm.is_a_template is False
    assert vm.HVM_shadow_multiplier == 1.0
    assert vm.other_config == {"purpose": "test"}
    assert vm.tags == []
    assert vm.resident_on is None                       # OpaqueRef:NULL
    assert isinstance(vm.metrics, xvm.VM_metrics)
    assert vm.metrics.VCPUs_number >= 0
    assert vm.snapshot_time == datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    assert len(vm.uuid) == 36
    vm.start()
    host = vm.resident_on
    assert isinstance(host, xvm.host) and host == conn.hosts.all()[0]
    assert vm in host.resident_VMs
    assert all(isinstance(c, xvm.console) for c in vm.consoles)


def test_rw_fields_can_be_set(vm):
    vm.name_label = "renamed"
    vm.VCPUs_at_startup = 2
    vm.other_config = {"a": "1"}
    vm.tags = ["x", "y"]
    vm.HVM_shadow_multiplier = 2.0
    assert (vm.name_label, vm.VCPUs_at_startup, vm.other_config, vm.tags) == ("renamed", 2, {"a": "1"}, ["x", "y"])
    assert vm.HVM_shadow_multiplier == 2.0
    host = vm.connection.hosts.all()[0]
    vm.affinity = host
    assert vm.affinity == host
    vm.affinity = None
    assert vm.affinity is None


def test_ro_fields_cannot_be_set(vm):
    with pytest.raises(AttributeError):
        vm.power_state = "Running"
    with pytest.raises(AttributeError):
        vm.uuid = "x"
    with pytest.raises(AttributeError):
        del vm.name_label
    with pytest.raises(AttributeError):
        vm.no_such_field = 1
    assert vm.power_state == "Halted"


def test_set_rejects_unconvertible_values(vm):
    with pytest.raises(TypeError):
        vm.name_label = object()
    with pytest.raises(TypeError):
        vm.other_config = {1: "a"}
    with pytest.raises(OverflowError):
        vm.VCPUs_max = 2 ** 70


def test_record(conn, vm):
    rec = vm.record()
    assert isinstance(rec, xvm.Record)
    assert rec["name_label"] == "vm1" and rec["power_state"] == "Halted"
    assert set(rec) == set(xvm.VM.fields)
    assert isinstance(rec["metrics"], xvm.VM_metrics)
    assert rec["resident_on"] is None
    assert isinstance(rec["snapshot_time"], datetime.datetime)
    for obj in conn.pools.all() + conn.hosts.all() + conn.srs.all() + conn.networks.all():
        assert obj.record()["uuid"] == obj.uuid


def test_collections(conn):
    a = conn.install("sim test", "a")
    b = conn.install("sim test", "b")
    b2 = conn.install("sim test", "b")
    assert sorted(conn.vms.all(), key=lambda v: v.name_label) in ([a, b, b2], [a, b2, b])
    assert set(conn.vms) == {a, b, b2}
    assert len(conn.vms) == 3
    assert conn.vms.by_name("b") in ([b, b2], [b2, b])
    assert conn.vms.by_name("nope") == []
    assert conn.vms.by_name("sim test") == []          # a template
    assert conn.vms[a.uuid] == a
    assert {t.name_label for t in conn.templates} >= {"sim test"}
    assert conn.templates.by_name("sim test")[0].is_a_template
    assert conn.templates.by_name("a") == []
    assert len(conn.hosts) == 1 and len(conn.pools) == 1
    for name in ("pools", "hosts", "vms", "vm_metrics", "srs", "pbds", "vdis", "vbds", "networks", "vifs",
                 "tasks", "consoles", "templates"):
        assert isinstance(getattr(conn, name), xvm.Collection)
    assert repr(conn.templates).startswith("<xvm.Collection VM templates on ")
    with pytest.raises(TypeError):
        conn.vms[0]


def test_records_is_one_listing(conn):
    vms = [conn.install("sim test", f"vm{i}") for i in range(5)]
    recs = conn.vms.records()
    assert set(recs) == set(vms)
    assert recs[vms[0]]["name_label"] == "vm0"
    assert recs[vms[0].ref] is recs[vms[0]]            # ref strs work as keys
    assert all(not r["is_a_template"] for r in recs.values())
    assert all(r["is_a_template"] for r in conn.templates.records().values())


def test_equality_hash_repr(conn, vm):
    same = xvm.VM(conn, vm.ref)
    assert same == vm and hash(same) == hash(vm) and not (same != vm)
    assert vm == vm.ref
    assert vm != xvm.VM(conn, "OpaqueRef:other")
    assert vm != xvm.host(conn, vm.ref)                 # another class
    assert vm != 1
    assert repr(vm) == f"<xvm.VM {vm.ref}>"
    assert vm.ref.startswith("OpaqueRef:")
    with pytest.raises(TypeError):
        xvm.XenObject(conn, vm.ref)


def test_map_and_set_helpers(vm):
    vm.add_to("other_config", "k", "v")
    assert vm.other_config == {"purpose": "test", "k": "v"}
    vm.remove_from("other_config", "k")
    vm.remove_from("other_config", "absent")
    assert vm.other_config == {"purpose": "test"}
    vm.add_to("tags", "blue")
    assert vm.tags == ["blue"]
    vm.remove_from("tags", "blue")
    assert vm.tags == []


def test_call_escape_hatch(conn, vm):
    rec = conn.call("VM.get_record", vm.ref)
    assert rec["name_label"] == "vm1" and rec["resident_on"] == "OpaqueRef:NULL"
    assert conn.call("VM.get_record", vm) == rec          # objects pass as refs
    assert conn.call("VM.set_name_label", vm, "x") is None
    assert conn.call("VM.get_name_label", vm) == "x"
    assert conn.call("VM.get_VCPUs_max", vm) == 2
    conn.call("VM.set_other_config", vm, {"a": "b"})
    assert vm.other_config == {"a": "b"}
    assert sorted(conn.call("VM.get_all")) == sorted(v.ref for v in conn.vms.all() + conn.templates.all())
    with pytest.raises(TypeError):
        conn.call()
    with pytest.raises(TypeError):
        conn.call("VM.get_record", object())


def test_install_from_name_uuid_ref_or_object(conn):
    t = conn.templates.by_name("sim test")[0]
    vms = [conn.install(spec, f"i{n}") for n, spec in enumerate(["sim test", t.uuid, t.ref, t])]
    assert [v.name_label for v in vms] == ["i0", "i1", "i2", "i3"]
    assert all(isinstance(v, xvm.VM) and not v.is_a_template for v in vms)
    with pytest.raises(TypeError):
        conn.install(3, "x")


def test_conversions_keep_refcounts(conn, vm):
    """A cheap debug check: converting records and fields must not leak or
    steal references to the shared singletons. One round first: it fills
    caches (such as the type attribute cache, whose empty entries hold
    None), and garbage from elsewhere goes: both would change the counts."""
    def convert():
        dict(vm.record())
        rec = vm.record()
        rec["resident_on"], rec["is_a_template"], rec["tags"], rec == rec, rec.keys()
        vm.resident_on, vm.is_a_template, vm.tags
        conn.call("VM.get_record", vm)

    convert()
    gc.collect()
    counts = [sys.getrefcount(o) for o in (None, True, False)]
    for _ in range(1000):
        convert()
    gc.collect()
    assert [sys.getrefcount(o) for o in (None, True, False)] == counts
