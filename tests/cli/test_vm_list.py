# SPDX-License-Identifier: LGPL-2.1-or-later
"""vm-install and the list commands: text, --minimal, --json, params=, filters."""
import re

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_install_prints_the_new_uuid(xvm):
    uuid = xvm.install("web")
    assert UUID.match(uuid), uuid
    assert xvm.get(uuid, "name-label") == "web"
    assert xvm.get(uuid, "is-a-template") == "false"
    assert xvm.power(uuid) == "halted"


def test_install_by_template_uuid_and_other_template(xvm):
    tmpl = xvm.ok("template-list", "name-label=Other install media", "--minimal")
    assert UUID.match(tmpl), tmpl
    uuid = xvm.ok("vm-install", f"template={tmpl}", "new-name-label=from-uuid")
    assert xvm.get(uuid, "name-label") == "from-uuid"


def test_install_unknown_template(xvm):
    err = xvm.fails(1, "vm-install", "template=no such template", "new-name-label=x")
    assert "UNKNOWN_TEMPLATE" in err
    assert xvm.ok("vm-list", "--minimal") == ""


def test_list_text_format(xvm):
    a = xvm.install("alpha")
    b = xvm.install("beta")
    out = xvm.ok("vm-list")
    records = out.split("\n\n")
    assert len(records) == 2
    for rec in records:
        lines = rec.splitlines()
        assert [l.split("(")[0].strip() for l in lines] == ["uuid", "name-label", "power-state"]
        assert lines[0].startswith("uuid ( RO)")
        # every ':' separator in one column
        assert len({l.index(": ") for l in lines}) == 1, rec
    assert f"uuid ( RO)       : {a}" in out
    assert " name-label ( RW): beta" in out
    assert "power-state ( RO): halted" in out
    assert b in out


def test_list_excludes_templates_unless_asked(xvm):
    xvm.install("only")
    names = xvm.ok("vm-list", "params=name-label", "--minimal").split(",")
    assert names == ["only"]
    templates = xvm.ok("vm-list", "is-a-template=true", "params=name-label", "--minimal").split(",")
    assert "sim test" in templates and "Other install media" in templates and "only" not in templates
    assert xvm.ok("template-list", "params=name-label", "--minimal").split(",") == templates


def test_minimal_and_json(xvm):
    uuids = {xvm.install(f"vm{i}") for i in range(3)}
    assert set(xvm.ok("vm-list", "--minimal").split(",")) == uuids
    recs = xvm.records("vm-list")
    assert {r["uuid"] for r in recs} == uuids
    assert all(set(r) == {"uuid", "name-label", "power-state"} for r in recs)
    assert all(r["power-state"] == "Halted" for r in recs)


def test_params_all_and_selected(xvm):
    uuid = xvm.install("full")
    rec = xvm.records("vm-list", "params=all")[0]
    assert rec["uuid"] == uuid
    assert isinstance(rec["VCPUs-max"], int)
    assert isinstance(rec["other-config"], dict)
    assert "memory-static-max" in rec and "actions-after-crash" in rec
    out = xvm.ok("vm-list", "params=all")
    assert "other-config (MRW):" in out and "allowed-operations (SRO):" in out
    sel = xvm.records("vm-list", "params=name-label,VCPUs-max")
    assert sel == [{"name-label": "full", "VCPUs-max": rec["VCPUs-max"]}]
    assert xvm.fails(2, "vm-list", "params=name-label,bogus")


def test_filters(xvm):
    a = xvm.install("a")
    b = xvm.install("b")
    xvm.ok("vm-param-set", f"uuid={b}", "other-config:role=db")
    xvm.ok("vm-start", f"uuid={a}")
    assert xvm.ok("vm-list", "power-state=running", "--minimal") == a
    assert xvm.ok("vm-list", "power-state=Halted", "--minimal") == b   # enums in any case
    assert xvm.ok("vm-list", "name-label=b", "--minimal") == b
    assert xvm.ok("vm-list", "other-config:role=db", "--minimal") == b
    assert xvm.ok("vm-list", "other-config:role=web", "--minimal") == ""
    assert xvm.ok("vm-list", "power-state=paused") == ""
    host = xvm.ok("host-list", "--minimal")
    assert xvm.ok("vm-list", f"resident-on={host}", "--minimal") == a   # refs filter by UUID


def test_other_lists_and_host_param_list(xvm):
    host = xvm.ok("host-list", "--minimal")
    assert UUID.match(host)
    out = xvm.ok("host-param-list", f"uuid={host}")
    assert out.startswith(f"uuid ( RO)")
    assert "memory-total ( RO):" in out
    assert UUID.match(xvm.ok("pool-list", "--minimal"))
    pool = xvm.records("pool-list")[0]
    assert pool["master"] == host          # references shown as UUIDs
    srs = xvm.records("sr-list")
    assert srs and all(UUID.match(r["uuid"]) for r in srs)
    assert xvm.run("task-list").returncode == 0
