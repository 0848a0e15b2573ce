# SPDX-License-Identifier: LGPL-2.1-or-later
"""One exception class per libxvm error code, and every error the library
raises in practice mapped to its class with code, params and message."""
import pytest

import xvm


def test_one_class_per_code():
    assert issubclass(xvm.Error, Exception)
    assert len(xvm.errors) >= 31
    for code, cls in xvm.errors.items():
        assert issubclass(cls, xvm.Error) and cls.code == code
        assert getattr(xvm, cls.__name__) is cls or code == "NOT_IMPLEMENTED"
        assert cls.__doc__.startswith(code + ": ")
    names = {code: cls.__name__ for code, cls in xvm.errors.items()}
    assert names["VM_BAD_POWER_STATE"] == "VMBadPowerState"
    assert names["UUID_INVALID"] == "UuidInvalid"
    assert names["HANDLE_INVALID"] == "HandleInvalid"
    assert names["SR_FULL"] == "SRFull"
    assert names["HOST_NOT_ENOUGH_FREE_MEMORY"] == "HostNotEnoughFreeMemory"
    assert issubclass(xvm.UuidInvalid, KeyError)
    assert "NotImplemented" not in xvm.__all__       # would shadow the builtin


def test_unknown_wire_code_keeps_its_code():
    e = xvm.error_for("SOME_NEW_CODE", "it broke", ["a", "b"])
    assert type(e) is xvm.Error and e.code == "SOME_NEW_CODE" and e.params == ("a", "b") and str(e) == "it broke"
    e = xvm.error_for("SR_FULL")
    assert type(e) is xvm.SRFull and e.params == () and str(e) == ""


def check(exc_info, cls, code, nparams=None):
    e = exc_info.value
    assert type(e) is cls and e.code == code
    assert isinstance(e.params, tuple) and all(isinstance(p, str) for p in e.params)
    assert str(e)
    if nparams is not None:
        assert len(e.params) == nparams
    return e


def test_vm_bad_power_state(vm):
    with pytest.raises(xvm.VMBadPowerState) as ei:
        vm.pause()
    e = check(ei, xvm.VMBadPowerState, "VM_BAD_POWER_STATE", 3)
    assert e.params == (vm.ref, "running", "halted")
    assert "must be running" in str(e)
    vm.start()
    with pytest.raises(xvm.VMBadPowerState) as ei:
        vm.start()
    assert ei.value.params == (vm.ref, "halted", "running")


def test_handle_invalid(conn):
    with pytest.raises(xvm.HandleInvalid) as ei:
        xvm.VM(conn, "OpaqueRef:nope").start()
    check(ei, xvm.HandleInvalid, "HANDLE_INVALID")
    with pytest.raises(xvm.HandleInvalid):
        xvm.VM(conn, "OpaqueRef:nope").name_label


def test_uuid_invalid_is_a_key_error(conn):
    with pytest.raises(KeyError) as ei:
        conn.vms["00000000-0000-0000-0000-000000000000"]
    check(ei, xvm.UuidInvalid, "UUID_INVALID")
    with pytest.raises(xvm.UuidInvalid):
        conn.hosts["junk"]
    assert not str(ei.value).startswith("'")          # the message, not KeyError's repr


def test_field_type_error(vm):
    with pytest.raises(xvm.FieldTypeError) as ei:
        vm.VCPUs_max = "four"
    check(ei, xvm.FieldTypeError, "FIELD_TYPE_ERROR")
    with pytest.raises(xvm.FieldTypeError):
        vm.other_config = ["a"]


def test_map_duplicate_key(vm):
    vm.add_to("other_config", "k", "v")
    with pytest.raises(xvm.MapDuplicateKey) as ei:
        vm.add_to("other_config", "k", "w")
    check(ei, xvm.MapDuplicateKey, "MAP_DUPLICATE_KEY")


def test_memory_constraint_violation(vm):
    with pytest.raises(xvm.MemoryConstraintViolation) as ei:
        vm.memory_static_min = 2 ** 40
    check(ei, xvm.MemoryConstraintViolation, "MEMORY_CONSTRAINT_VIOLATION")


def test_message_method_unknown(conn):
    with pytest.raises(xvm.MessageMethodUnknown) as ei:
        conn.call("VM.fly")
    check(ei, xvm.MessageMethodUnknown, "MESSAGE_METHOD_UNKNOWN")


def test_message_parameter_count_mismatch(conn):
    with pytest.raises(xvm.MessageParameterCountMismatch) as ei:
        conn.call("VM.get_record")
    check(ei, xvm.MessageParameterCountMismatch, "MESSAGE_PARAMETER_COUNT_MISMATCH")


def test_vm_is_template(conn):
    template = conn.templates.by_name("sim test")[0]
    with pytest.raises(xvm.VMIsTemplate) as ei:
        template.start()
    check(ei, xvm.VMIsTemplate, "VM_IS_TEMPLATE")


def test_unknown_template(conn):
    with pytest.raises(xvm.UnknownTemplate) as ei:
        conn.install("no such template", "x")
    check(ei, xvm.UnknownTemplate, "UNKNOWN_TEMPLATE")


def test_invalid_value(vm):
    vm.start()
    with pytest.raises(xvm.InvalidValue) as ei:
        vm.set_vcpus_live(0)
    check(ei, xvm.InvalidValue, "INVALID_VALUE")
    with pytest.raises(xvm.InvalidValue):
        vm.simulate_guest_action("dance")


def test_uri_invalid():
    with pytest.raises(xvm.UriInvalid) as ei:
        xvm.connect("bogus:///x")
    check(ei, xvm.UriInvalid, "URI_INVALID")


def test_store_invalid(tmp_path):
    (tmp_path / "xvm.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(xvm.StoreInvalid) as ei:
        xvm.connect("sim://" + str(tmp_path))
    check(ei, xvm.StoreInvalid, "STORE_INVALID")


def test_hypervisor_error(uri, monkeypatch):
    monkeypatch.setenv("XVM_HC_FAULT", "domain_create:1:EIO")
    with xvm.connect(uri) as conn:
        vm = conn.install("sim test", "a")
        with pytest.raises(xvm.HypervisorError) as ei:
            vm.start()
        check(ei, xvm.HypervisorError, "HYPERVISOR_ERROR")
        assert vm.power_state == "Halted"
        vm.start()                               # only the first create fails
        assert vm.power_state == "Running"


def test_errors_are_per_thread(conn, vm):
    """A failure on one thread does not leak into another's exception."""
    import threading
    seen = []

    def other():
        try:
            conn.install("no such template", "x")
        except xvm.Error as e:
            seen.append(e.code)

    with pytest.raises(xvm.VMBadPowerState):
        vm.pause()
    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen == ["UNKNOWN_TEMPLATE"]
