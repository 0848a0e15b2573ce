# SPDX-License-Identifier: LGPL-2.1-or-later
"""xvm.Record, what record() and records() return: for every class, the
same keys, order, values and types as the dict of typed fields (built here
from the raw JSON of conn.call), whichever way it is read; the mapping
protocol; changes as in a dict; pickling and copying; cycles; the record
used by GC callbacks in the middle of a conversion."""
import collections.abc
import copy
import datetime
import gc
import json
import pickle
import weakref

import pytest

import xvm

NULL_REF = "OpaqueRef:NULL"


def typed(conn, info, value):
    """What the module makes of one field's raw JSON value."""
    def scalar(t, v):
        if t == "ref" and isinstance(v, str):
            return None if v == NULL_REF else xvm.classes[info.ref_class](conn, v)
        if t == "datetime" and isinstance(v, str) and len(v) == 18:
            return datetime.datetime.strptime(v, "%Y%m%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        return v

    if info.type == "set" and isinstance(value, list):
        return [scalar(info.elem_type, v) for v in value]
    return scalar(info.type, value)


def expected_record(conn, cls, ref):
    """The dict a record stands for: fields in the class's order, then any
    key the class does not know, in the JSON's order."""
    raw = conn.call(f"{cls}.get_record", ref)
    fields = xvm.classes[cls].fields
    rec = {name: typed(conn, info, raw[name]) for name, info in fields.items() if name in raw}
    rec.update((k, v) for k, v in raw.items() if k not in fields)
    return rec


def same(a, b):
    """Equal, and of the same types all the way down."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    else:
        assert a == b


# A file SR's space figures are its file system's, read at each call: any
# writer there (a neighbour's build) moves them between two calls, so they
# are compared by type alone.
LIVE = {"SR": ("physical_size", "physical_utilisation")}


def steady(name, d):
    """A record as a dict, its live figures replaced by their types."""
    return {k: type(v) if k in LIVE.get(name, ()) else v for k, v in d.items()}


@pytest.fixture
def running(conn, vm):
    vm.start()
    return vm


def every_object(conn):
    """(class name, object) for every object on the connection."""
    return [(name, cls(conn, ref)) for name, cls in xvm.classes.items() for ref in conn.call(f"{name}.get_all")]


@pytest.mark.through_daemon
def test_every_class_record_is_its_typed_dict(conn, running):
    objs = every_object(conn)
    assert {"pool", "host", "VM", "VM_metrics", "SR", "PBD"} <= {name for name, _ in objs}
    for name, obj in objs:
        want = expected_record(conn, name, obj.ref)
        assert list(want) == list(obj.fields)
        if name in LIVE:
            rec = obj.record()
            assert list(rec) == list(want)
            same(steady(name, rec), steady(name, want))
            same(steady(name, rec), steady(name, {k: getattr(obj, k) for k in want}))
            continue
        # Read field by field, before the record is ever whole.
        rec = obj.record()
        assert type(rec) is xvm.Record and len(rec) == len(want)
        for k in want:
            assert k in rec
            same(rec[k], want[k])
            same(rec.get(k), want[k])
        assert rec == want and want == rec and not rec != want
        same(dict(rec), want)
        # Whole at once, without a field read first.
        rec = obj.record()
        assert rec == want
        assert list(rec) == list(want) and repr(rec) == repr(want)
        # The attributes are the same values.
        rec = obj.record()
        for k in want:
            same(rec[k], getattr(obj, k))
    host = conn.hosts.all()[0].record()
    assert running in host["resident_VMs"] and isinstance(running.record()["resident_on"], xvm.host)


@pytest.mark.through_daemon
def test_records_are_records_of_the_right_objects(conn, running):
    other = conn.install("sim test", "vm2")
    for name, coll in (("VM", conn.vms), ("VM", conn.templates), ("host", conn.hosts), ("SR", conn.srs),
                       ("VM_metrics", conn.vm_metrics), ("pool", conn.pools), ("PBD", conn.pbds)):
        recs = coll.records()
        assert recs
        for obj, rec in recs.items():
            assert type(rec) is xvm.Record
            same(steady(name, rec), steady(name, expected_record(conn, name, obj.ref)))
    assert set(conn.vms.records()) == {running, other}
    assert conn.vdis.records() == {}


def test_values_are_read_once(running):
    rec = running.record()
    assert rec["metrics"] is rec["metrics"] and rec["resident_on"] is rec.get("resident_on")
    assert rec["power_state"] is running.record()["power_state"]       # enums are shared strs
    metrics = rec["metrics"]
    assert rec == rec
    assert rec["metrics"] is metrics and dict(rec)["metrics"] is metrics


def test_mutable_values_keep_their_changes(vm):
    rec = vm.record()
    rec["other_config"]["k"] = "v"
    rec["tags"].append("blue")
    assert rec["other_config"] == {"purpose": "test", "k": "v"} and rec["tags"] == ["blue"]
    whole = dict(rec)
    assert whole["other_config"] == {"purpose": "test", "k": "v"} and whole["tags"] == ["blue"]
    assert vm.other_config == {"purpose": "test"} and vm.tags == []        # a snapshot


def test_mapping_protocol(vm):
    rec = vm.record()
    assert isinstance(rec, collections.abc.MutableMapping) and isinstance(rec, collections.abc.Mapping)
    assert not isinstance(rec, dict)
    with pytest.raises(TypeError):
        hash(rec)
    with pytest.raises(KeyError) as e:
        rec["nope"]
    assert e.value.args == ("nope",)
    with pytest.raises(KeyError) as e:
        rec[("a", 1)]
    assert e.value.args == (("a", 1),)
    with pytest.raises(TypeError):
        rec[["unhashable"]]
    with pytest.raises(TypeError):
        ["unhashable"] in rec
    assert 1 not in rec and "nope" not in rec and "\udc80" not in rec and "uuid\0" not in rec
    assert rec.get("nope") is None and rec.get("nope", 3) == 3
    with pytest.raises(TypeError):
        rec.get()
    want = dict(vm.record())
    assert rec.keys() == want.keys() and list(rec.values()) == list(want.values())
    assert rec.items() == want.items() and rec.keys() & {"uuid", "x"} == {"uuid"}
    assert list(reversed(rec)) == list(reversed(want))
    assert "%(name_label)s" % rec == "vm1"
    assert (lambda **kw: kw)(**rec) == want and {**rec} == want
    match rec:
        case {"name_label": name, "power_state": "Halted"}:
            assert name == "vm1"
        case _:
            pytest.fail("a record is matched as a mapping")
    assert rec != [1] and rec != None and (rec == 1) is False      # noqa: E711
    with pytest.raises(TypeError):
        rec < want
    assert repr(rec) == repr(want) and str(rec) == str(want)
    assert json.dumps(dict(rec), default=repr) == json.dumps(want, default=repr)


# Each change, made to a fresh record and to the dict it stands for.
CHANGES = [
    lambda d: d.__setitem__("name_label", "renamed"),
    lambda d: d.__setitem__("new_key", 1),
    lambda d: d.__delitem__("uuid"),
    lambda d: d.pop("name_label"),
    lambda d: d.pop("absent", "default"),
    lambda d: d.popitem(),
    lambda d: d.setdefault("name_label", "x"),
    lambda d: d.setdefault("absent", []),
    lambda d: d.update({"a": 1}, b=2),
    lambda d: d.update([("name_label", "y")]),
    lambda d: d.clear(),
    lambda d: d.copy(),
    lambda d: d | {"name_label": "z", "c": 3},
    lambda d: {"name_label": "z", "c": 3} | d,
    lambda d: d.__ior__({"VCPUs_max": 8}),
]


def outcome(change, d):
    try:
        r = change(d)
    except Exception as e:
        return "raised", type(e), e.args
    return "returned", type(r), "itself" if r is d else r


@pytest.mark.parametrize("change", range(len(CHANGES)))
def test_changes_as_in_a_dict(vm, change):
    rec, want = vm.record(), dict(vm.record())
    for _ in range(2):               # on a fresh record, then on the record now whole
        got, expected = outcome(CHANGES[change], rec), outcome(CHANGES[change], want)
        assert got[0] == expected[0] and got[2] == expected[2]
        assert got[1] is (xvm.Record if expected[1] is dict and got[2] == "itself" else expected[1])
        assert rec == want and list(rec) == list(want) and len(rec) == len(want)
    assert vm.name_label == "vm1"


def test_changing_keys_while_iterating_fails_as_in_a_dict(vm):
    rec = vm.record()
    with pytest.raises(RuntimeError):
        for k in rec:
            rec["x" + k] = 1
    with pytest.raises(KeyError):
        del vm.record()["nope"]
    with pytest.raises(KeyError):
        vm.record().pop("nope")
    rec = vm.record()
    rec["uuid"] = "x"
    rec["uuid2"] = "y"
    del rec["uuid"]
    rec["uuid"] = "z"
    assert list(rec)[-2:] == ["uuid2", "uuid"]


def test_pickles_and_copies_are_dicts(conn, vm):
    metrics = vm.metrics.record()            # no refs: every value pickles
    want = dict(vm.metrics.record())
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(vm.metrics.record(), protocol))
        assert type(back) is dict and back == want and list(back) == list(want)
    for c in (copy.copy(metrics), copy.deepcopy(metrics), metrics.copy()):
        assert type(c) is dict and c == want
    assert copy.copy(metrics)["other_config"] is metrics["other_config"]
    assert copy.deepcopy(metrics)["other_config"] is not metrics["other_config"]
    # Objects do not pickle (they need their connection), in a record as in a dict.
    with pytest.raises(TypeError) as from_dict:
        pickle.dumps(dict(vm.record()))
    with pytest.raises(TypeError) as from_record:
        pickle.dumps(vm.record())
    assert str(from_record.value) == str(from_dict.value)


def test_a_record_inside_itself(vm):
    rec = vm.metrics.record()
    rec["other_config"]["me"] = rec
    assert repr(rec).count("{...}") == 1
    deep = copy.deepcopy(rec)
    assert type(deep) is dict and deep["other_config"]["me"] is deep
    back = pickle.loads(pickle.dumps(rec))
    assert back["other_config"]["me"] is back


class Sentinel:
    pass


@pytest.mark.parametrize("whole", [False, True])
def test_cycles_through_records_are_collected(vm, whole):
    rec = vm.record()
    config = rec["other_config"]                 # read, kept by the record
    if whole:
        rec["x"] = 1                             # the record is now a dict
    s = Sentinel()
    config["me"], config["s"] = rec, s
    gone = weakref.ref(s)
    del rec, config, s
    gc.collect()
    assert gone() is None


def during_conversion(hook, convert):
    """convert(), whose first allocation of a dict or list runs hook() from
    a collection (finalizers run there too), as may happen in the module's
    conversions. Returns what convert() returned."""
    hooks = [hook]

    def callback(phase, info):
        if phase == "start" and hooks:
            hooks.pop()()

    gc.collect()
    keep = [[] for _ in range(100)], [{} for _ in range(100)]     # empties their free lists
    threshold = gc.get_threshold()
    gc.callbacks.append(callback)
    gc.set_threshold(1)                 # and then each new one starts a collection
    try:
        result = convert()
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(callback)
    assert not hooks and keep
    return result


def test_record_changed_while_a_value_converts(vm):
    rec = vm.record()
    config = during_conversion(lambda: rec.__setitem__("name_label", "changed"), lambda: rec["other_config"])
    assert config == {"purpose": "test"} and rec["other_config"] is config
    assert rec["name_label"] == "changed" and len(rec) == len(xvm.VM.fields)


def test_record_read_while_a_value_converts(vm):
    rec = vm.record()
    inner = []
    config = during_conversion(lambda: inner.append(rec["other_config"]), lambda: rec["other_config"])
    assert config is inner[0] and rec["other_config"] is config


def test_record_changed_while_it_becomes_whole(vm):
    rec = vm.record()
    # keys() makes the record whole before anything else.
    keys = during_conversion(lambda: rec.__setitem__("name_label", "changed"), rec.keys)
    assert rec["name_label"] == "changed" and list(keys) == list(xvm.VM.fields)
    assert dict(rec) == dict(vm.record(), name_label="changed")
