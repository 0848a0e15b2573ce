# SPDX-License-Identifier: LGPL-2.1-or-later
"""vTPMs from Python: conn.create_vtpm and VTPM.destroy(), the VTPM class
and conn.vtpms, VM.VTPMs, the same through conn.call, and their errors,
locally and through xvmd."""
import pytest

import xvm


@pytest.mark.through_daemon
def test_create_read_destroy(conn, vm):
    ref = conn.call("VTPM.create", vm, False)
    t = conn.vtpms.all()[0]
    assert t.ref == ref
    assert isinstance(t, xvm.VTPM)
    assert t.VM == vm and vm.VTPMs == [t]
    assert t.persistence_backend == "xapi" and t.is_unique is False
    assert t.allowed_operations == ["destroy"]
    assert conn.vtpms.records()[t]["VM"] == vm.ref
    with pytest.raises(xvm.VTPMMaxAmountReached) as e:
        conn.call("VTPM.create", vm, True)
    assert e.value.params == ("1",)
    vm.start()
    with pytest.raises(xvm.VMBadPowerState):
        conn.call("VTPM.destroy", t)
    vm.hard_shutdown()
    conn.call("VTPM.destroy", t)
    assert conn.vtpms.all() == [] and vm.VTPMs == []


@pytest.mark.through_daemon
def test_typed_calls(conn, vm):
    t = conn.create_vtpm(vm, is_unique=True)
    assert isinstance(t, xvm.VTPM) and t.is_unique is True and vm.VTPMs == [t]
    with pytest.raises(xvm.VTPMMaxAmountReached):
        conn.create_vtpm(vm.ref)
    with pytest.raises(TypeError):
        conn.create_vtpm(42)
    vm.start()
    with pytest.raises(xvm.VMBadPowerState):
        t.destroy()
    vm.hard_shutdown()
    assert t.destroy() is None
    assert vm.VTPMs == []


def test_class_metadata():
    f = xvm.VTPM.fields
    assert f["VM"].ref_class == "VM" and not f["VM"].writable
    assert f["is_unique"].type == "bool"
    assert xvm.VM.fields["VTPMs"].ref_class == "VTPM"
