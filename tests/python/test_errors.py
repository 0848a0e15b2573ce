# SPDX-License-Identifier: LGPL-2.1-or-later
"""One exception class per libxvm error code, and every error the library
raises in practice mapped to its class with code, params and message: the
same in-process and through xvmd (the tests on a conn run both ways)."""
import os
import socket
import subprocess

import pytest

import xvm

pytestmark = pytest.mark.through_daemon

MiB = 1 << 20


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


# --- Storage ----------------------------------------------------------------------------


def local_sr(conn):
    return conn.srs.by_name("Local storage")[0]


@pytest.fixture
def iso(conn, tmp_path):
    """An ISO image in an iso SR, as a VDI."""
    lib = tmp_path / "isos"
    (lib / "content").mkdir(parents=True)
    subprocess.run(["genisoimage", "-quiet", "-o", str(lib / "disc.iso"), str(lib / "content")], check=True)
    conn.create_sr("iso", "ISOs", {"location": str(lib)})
    return conn.vdis.by_name("disc.iso")[0]


def test_sr_full(conn):
    sr = local_sr(conn)
    with pytest.raises(xvm.SRFull) as ei:
        sr.create_vdi("huge", 1 << 60)
    e = check(ei, xvm.SRFull, "SR_FULL", 3)
    assert e.params[0] == str(1 << 60) and int(e.params[1]) < 1 << 60 and e.params[2] == sr.ref
    assert conn.vdis.all() == []


def test_sr_unknown_driver(conn, tmp_path):
    with pytest.raises(xvm.SRUnknownDriver) as ei:
        conn.create_sr("zfs", "n", {"location": str(tmp_path)})
    assert check(ei, xvm.SRUnknownDriver, "SR_UNKNOWN_DRIVER", 1).params == ("zfs",)


def test_sr_backend_failure(conn, tmp_path):
    with pytest.raises(xvm.SRBackendFailure) as ei:
        conn.create_sr("file", "n")
    assert "location" in check(ei, xvm.SRBackendFailure, "SR_BACKEND_FAILURE").params
    (tmp_path / "afile").write_text("")
    with pytest.raises(xvm.SRBackendFailure) as ei:
        conn.create_sr("file", "n", {"location": str(tmp_path / "afile")})
    assert "not a directory" in str(ei.value)
    assert len(conn.srs) == 1


def test_sr_device_in_use(conn, tmp_path):
    conn.create_sr("file", "a", {"location": str(tmp_path / "a")})
    with pytest.raises(xvm.SRDeviceInUse) as ei:
        conn.create_sr("file", "b", {"location": str(tmp_path / "a")})
    assert check(ei, xvm.SRDeviceInUse, "SR_DEVICE_IN_USE", 1).params == (str(tmp_path / "a"),)


def test_sr_operation_not_supported(conn, iso):
    with pytest.raises(xvm.SROperationNotSupported) as ei:
        iso.SR.create_vdi("d", MiB)
    check(ei, xvm.SROperationNotSupported, "SR_OPERATION_NOT_SUPPORTED", 2)
    with pytest.raises(xvm.SROperationNotSupported):
        iso.clone()
    with pytest.raises(xvm.SROperationNotSupported):
        iso.SR.destroy()


def test_sr_has_no_pbds(conn, tmp_path):
    sr = conn.create_sr("file", "a", {"location": str(tmp_path / "a")})
    sr.PBDs[0].unplug()
    with pytest.raises(xvm.SRHasNoPbds) as ei:
        sr.create_vdi("d", MiB)
    assert check(ei, xvm.SRHasNoPbds, "SR_HAS_NO_PBDS", 1).params == (sr.ref,)
    with pytest.raises(xvm.SRHasNoPbds):
        sr.scan()


def test_pbd_exists(conn, tmp_path):
    sr = local_sr(conn)
    with pytest.raises(xvm.PBDExists) as ei:
        conn.create_pbd(sr, {"location": str(tmp_path)})
    assert check(ei, xvm.PBDExists, "PBD_EXISTS", 2).params == (sr.ref, sr.PBDs[0].ref)


def test_device_already_attached_and_detached(conn, vm):
    pbd = local_sr(conn).PBDs[0]
    with pytest.raises(xvm.DeviceAlreadyAttached) as ei:
        pbd.plug()
    assert check(ei, xvm.DeviceAlreadyAttached, "DEVICE_ALREADY_ATTACHED", 1).params == (pbd.ref,)
    vbd = conn.create_vbd(vm, local_sr(conn).create_vdi("d", MiB))
    vm.start()
    with pytest.raises(xvm.DeviceAlreadyAttached):
        vbd.plug()
    with pytest.raises(xvm.DeviceAlreadyAttached):
        vbd.destroy()
    vbd.unplug()
    with pytest.raises(xvm.DeviceAlreadyDetached) as ei:
        vbd.unplug()
    assert check(ei, xvm.DeviceAlreadyDetached, "DEVICE_ALREADY_DETACHED", 1).params == (vbd.ref,)


def test_device_already_exists(conn, vm):
    vdi = local_sr(conn).create_vdi("d", MiB)
    conn.create_vbd(vm, vdi, userdevice="2")
    with pytest.raises(xvm.DeviceAlreadyExists) as ei:
        conn.create_vbd(vm, vdi, userdevice=2)
    assert check(ei, xvm.DeviceAlreadyExists, "DEVICE_ALREADY_EXISTS", 2).params == (vm.ref, "2")
    assert len(vm.VBDs) == 1


def test_vdi_in_use(conn, vm):
    vdi = local_sr(conn).create_vdi("d", MiB)
    conn.create_vbd(vm, vdi)
    vm.start()
    with pytest.raises(xvm.VDIInUse) as ei:
        vdi.destroy()
    assert check(ei, xvm.VDIInUse, "VDI_IN_USE", 2).params == (vdi.ref, vm.ref)
    with pytest.raises(xvm.VDIInUse):
        local_sr(conn).forget()
    assert vdi in conn.vdis


def test_vdi_missing(conn, state_dir):
    vdi = local_sr(conn).create_vdi("d", MiB)
    os.unlink(state_dir / "sr" / "local" / vdi.location)
    local_sr(conn).scan()
    assert vdi.missing
    with pytest.raises(xvm.VDIMissing) as ei:
        vdi.clone()
    assert check(ei, xvm.VDIMissing, "VDI_MISSING", 1).params == (vdi.ref,)


def test_vdi_too_small(conn, tmp_path):
    vdi = local_sr(conn).create_vdi("d", 2 * MiB)
    with pytest.raises(xvm.VDITooSmall) as ei:
        vdi.resize(MiB)
    assert check(ei, xvm.VDITooSmall, "VDI_TOO_SMALL", 2).params == (vdi.ref, str(MiB))
    (tmp_path / "big.raw").write_bytes(b"\1" * (4 * MiB))
    with pytest.raises(xvm.VDITooSmall):
        vdi.import_file(tmp_path / "big.raw")
    assert vdi.virtual_size == 2 * MiB


def test_vdi_read_only(conn, iso, tmp_path):
    (tmp_path / "in.raw").write_bytes(b"\0" * 4096)
    with pytest.raises(xvm.VDIReadOnly) as ei:
        iso.import_file(tmp_path / "in.raw")
    assert check(ei, xvm.VDIReadOnly, "VDI_READ_ONLY", 1).params == (iso.ref,)


def test_import_error(conn, tmp_path):
    vdi = local_sr(conn).create_vdi("d", MiB)
    with pytest.raises(xvm.ImportError) as ei:
        vdi.import_file(tmp_path / "none.raw")
    assert check(ei, xvm.ImportError, "IMPORT_ERROR", 2).params == (str(tmp_path / "none.raw"), "cannot read")
    (tmp_path / "text.qcow2").write_text("not an image\n")
    with pytest.raises(xvm.ImportError):
        vdi.import_file(tmp_path / "text.qcow2", format="qcow2")
    assert not issubclass(xvm.ImportError, ImportError)     # the builtin is another thing


def test_cd_drive_errors(conn, vm, iso):
    disk = local_sr(conn).create_vdi("d", MiB)
    with pytest.raises(xvm.VDIIsNotIso) as ei:
        conn.create_vbd(vm, disk, type="CD")
    assert check(ei, xvm.VDIIsNotIso, "VDI_IS_NOT_ISO", 1).params == (disk.ref,)
    cd = conn.create_vbd(vm, type="CD")
    with pytest.raises(xvm.VDIIsNotIso):
        cd.insert(disk)
    with pytest.raises(xvm.VBDIsEmpty) as ei:
        cd.eject()
    assert check(ei, xvm.VBDIsEmpty, "VBD_IS_EMPTY", 1).params == (cd.ref,)
    cd.insert(iso)
    with pytest.raises(xvm.VBDNotEmpty) as ei:
        cd.insert(iso)
    assert check(ei, xvm.VBDNotEmpty, "VBD_NOT_EMPTY", 1).params == (cd.ref,)
    drive = conn.create_vbd(vm, disk)
    with pytest.raises(xvm.VBDNotRemovableMedia) as ei:
        drive.insert(iso)
    assert check(ei, xvm.VBDNotRemovableMedia, "VBD_NOT_REMOVABLE_MEDIA", 1).params == (drive.ref,)
    with pytest.raises(xvm.VBDNotRemovableMedia):
        drive.eject()


def test_vbd_not_unpluggable(conn, vm):
    vbd = conn.create_vbd(vm, local_sr(conn).create_vdi("d", MiB))
    vbd.unpluggable = False
    vm.start()
    with pytest.raises(xvm.VBDNotUnpluggable) as ei:
        vbd.unplug()
    assert check(ei, xvm.VBDNotUnpluggable, "VBD_NOT_UNPLUGGABLE", 1).params == (vbd.ref,)
    assert vbd.currently_attached


# --- Connecting to a daemon ---------------------------------------------------------------


def test_credentials_for_a_local_uri(uri):
    with pytest.raises(xvm.InvalidValue) as ei:
        xvm.connect(uri, user="root", password="x")
    check(ei, xvm.InvalidValue, "INVALID_VALUE")


def test_session_authentication_failed(xvmd):
    d, token = xvmd
    for user, password in (("root", token[:-1] + ("1" if token[-1] == "0" else "0")), ("nobody", token)):
        with pytest.raises(xvm.SessionAuthenticationFailed) as ei:
            xvm.connect(f"xvm+tcp://127.0.0.1:{d.port}", user=user, password=password)
        check(ei, xvm.SessionAuthenticationFailed, "SESSION_AUTHENTICATION_FAILED")
    with xvm.connect(f"xvm+tcp://127.0.0.1:{d.port}", password=token) as conn:   # user None: root
        assert len(conn.hosts) == 1


def test_connection_failed():
    with socket.socket() as s:                     # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(xvm.ConnectionFailed) as ei:
        xvm.connect(f"xvm+tcp://127.0.0.1:{port}", user="root", password="x")
    check(ei, xvm.ConnectionFailed, "CONNECTION_FAILED", 1)
