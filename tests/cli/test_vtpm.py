# SPDX-License-Identifier: LGPL-2.1-or-later
"""vTPMs from the command line: vtpm-create, vtpm-destroy, vtpm-list,
vtpm-param-list/get, their refusals, what vm-clone and vm-uninstall do with
the TPM's state, and vm-install of the Windows 11 template."""
import json


def state_dir(xvm, vtpm):
    return xvm.state_dir / "vtpm" / vtpm


def test_create_list_params_destroy(xvm):
    vm = xvm.install("vm1")
    t = xvm.ok("vtpm-create", f"vm-uuid={vm}")
    assert (state_dir(xvm, t) / "tpm2-00.permall").stat().st_size > 4096   # keys and certificates
    assert xvm.ok("vtpm-list", "--minimal") == t
    assert xvm.ok("vtpm-list", f"VM={vm}", "--minimal") == t
    recs = json.loads(xvm.ok("vtpm-list", "--json"))
    assert len(recs) == 1 and recs[0]["VM"] == vm and recs[0]["is-unique"] is False
    text = xvm.ok("vtpm-param-list", f"uuid={t}")
    for field in ("uuid", "VM", "backend", "persistence-backend", "is-unique", "is-protected",
                  "allowed-operations", "current-operations"):
        assert field in text, text
    assert xvm.ok("vtpm-param-get", f"uuid={t}", "param-name=persistence-backend") == "xapi"
    assert xvm.ok("vtpm-param-get", f"uuid={t}", "param-name=allowed-operations") == "destroy"
    assert xvm.get(vm, "VTPMs") == t
    xvm.ok("vtpm-destroy", f"uuid={t}")
    assert not state_dir(xvm, t).exists()
    assert xvm.ok("vtpm-list", "--minimal") == ""
    assert xvm.get(vm, "VTPMs") == ""


def test_refusals_change_nothing(xvm):
    vm = xvm.install("vm1")
    assert "is-unique" in xvm.fails(2, "vtpm-create", f"vm-uuid={vm}", "is-unique=maybe")
    xvm.fails(1, "vtpm-create", "vm-uuid=00000000-0000-0000-0000-000000000000")
    t = xvm.ok("vtpm-create", f"vm-uuid={vm}", "is-unique=true")
    assert xvm.ok("vtpm-param-get", f"uuid={t}", "param-name=is-unique") == "true"
    assert "VTPM_MAX_AMOUNT_REACHED" in xvm.fails(1, "vtpm-create", f"vm-uuid={vm}")
    xvm.ok("vm-start", f"uuid={vm}")
    assert "VM_BAD_POWER_STATE" in xvm.fails(1, "vtpm-destroy", f"uuid={t}")
    assert xvm.ok("vtpm-param-get", f"uuid={t}", "param-name=allowed-operations") == ""
    assert xvm.ok("vtpm-list", "--minimal") == t
    vm2 = xvm.install("vm2")
    xvm.ok("vm-start", f"uuid={vm2}")
    assert "VM_BAD_POWER_STATE" in xvm.fails(1, "vtpm-create", f"vm-uuid={vm2}")
    assert xvm.get(vm2, "VTPMs") == ""


def test_clone_copies_the_state_uninstall_removes_it(xvm):
    vm = xvm.install("vm1")
    t = xvm.ok("vtpm-create", f"vm-uuid={vm}")
    c = xvm.ok("vm-clone", f"uuid={vm}", "new-name-label=c1")
    ct = xvm.get(c, "VTPMs")
    assert ct and ct != t
    assert (state_dir(xvm, ct) / "tpm2-00.permall").read_bytes() == \
        (state_dir(xvm, t) / "tpm2-00.permall").read_bytes()
    xvm.ok("vm-uninstall", f"uuid={vm}", "--force")
    assert not state_dir(xvm, t).exists()
    assert xvm.ok("vtpm-list", "--minimal") == ct


def test_windows_11_install_gets_one_vtpm(xvm):
    vm = xvm.install("w11", template="Windows 11")
    t = xvm.get(vm, "VTPMs")
    assert t and "," not in t
    assert xvm.ok("vtpm-param-get", f"uuid={t}", "param-name=VM") == vm
    assert "vtpm" not in xvm.get(vm, "other-config")
    desc = xvm.ok("template-param-get", "uuid=3e6a4dcb-d8b9-5e88-88bf-46f1cd0926bd", "param-name=name-description")
    assert "TPM 2.0" in desc and "no TPM" not in desc


def test_ova_export_refuses_a_vtpm_unless_told_to_leave_it_out(xvm, tmp_path):
    vm = xvm.install("vm1")
    xvm.ok("vtpm-create", f"vm-uuid={vm}")
    ova = tmp_path / "vm1.ova"
    err = xvm.fails(1, "vm-export", f"uuid={vm}", f"filename={ova}")
    assert "VM_HAS_VTPM" in err and "without_vtpm=true" in err
    assert not ova.exists()
    assert "without-vtpm" in xvm.fails(2, "vm-export", f"uuid={vm}", f"filename={ova}", "without-vtpm=perhaps")
    xvm.ok("vm-export", f"uuid={vm}", f"filename={ova}", "without-vtpm=true")
    imported = xvm.ok("vm-import", f"filename={ova}")
    assert xvm.get(imported, "VTPMs") == ""
    assert xvm.get(vm, "VTPMs") != ""
