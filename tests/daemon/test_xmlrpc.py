# SPDX-License-Identifier: LGPL-2.1-or-later
"""XML-RPC at / and /RPC2 with Python's xmlrpc.client, as XenAPI.py speaks it."""
import xmlrpc.client

import pytest


def proxy(xvmd, path="/"):
    return xmlrpc.client.ServerProxy(f"http://127.0.0.1:{xvmd.port}{path}", allow_none=False)


def value(resp):
    assert resp["Status"] == "Success", resp
    return resp["Value"]


def test_xenapi_py_session(xvmd):
    token = xvmd.xvm("token-create", "user=root")
    for path in ("/", "/RPC2"):
        x = proxy(xvmd, path)
        s = value(x.session.login_with_password("root", token, "2.0", "xmlrpc-test"))
        # What XenAPI.py asks first: the API version of the pool's master.
        master = value(x.pool.get_master(s, value(x.pool.get_all(s))[0]))
        assert (value(x.host.get_API_version_major(s, master)), value(x.host.get_API_version_minor(s, master))) == \
            ("2", "21")
        vm = value(x.VM.install(s, "sim test", "x1"))
        recs = value(x.VM.get_all_records(s))
        assert vm in recs and recs[vm]["name_label"] == "x1"
        # XenAPI's wire form: 64-bit ints as strings, booleans as booleans.
        assert recs[vm]["memory_static_max"] == str(int(recs[vm]["memory_static_max"]))
        assert recs[vm]["is_a_template"] is False
        value(x.VM.start(s, vm, False, False))
        assert value(x.VM.get_power_state(s, vm)) == "Running"
        assert value(x.VM.set_memory_dynamic_max(s, vm, "134217728")) == ""
        fail = x.VM.start(s, vm, False, False)
        assert fail["Status"] == "Failure"
        assert fail["ErrorDescription"][0] == "VM_BAD_POWER_STATE" and fail["ErrorDescription"][1] == vm
        value(x.VM.hard_shutdown(s, vm))
        value(x.VM.uninstall(s, vm))
        assert value(x.session.logout(s)) == ""
        assert x.VM.get_all(s)["ErrorDescription"] == ["SESSION_INVALID", s]


def test_xml_values_round_trip(xvmd):
    x = proxy(xvmd)
    s = value(x.session.login_with_password("root", xvmd.xvm("token-create", "user=root")))
    vm = value(x.VM.install(s, "sim test", "a <b> & 'c' \u00e9\u4e2d"))
    assert value(x.VM.get_name_label(s, vm)) == "a <b> & 'c' \u00e9\u4e2d"
    value(x.VM.add_to_other_config(s, vm, "k&", "v<"))
    assert value(x.VM.get_other_config(s, vm))["k&"] == "v<"


@pytest.mark.parametrize("body", [
    b"",
    b"not xml",
    b"<methodCall><methodName>VM.get_all</methodName>",
    b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><methodCall/>",
    b"<methodCall><methodName>x</methodName><params><param><value><int>12z</int></value></param></params></methodCall>",
    b"<methodCall><methodName>x</methodName><params><param><value><boolean>2</boolean></value></param></params></methodCall>",
    b"<methodCall><methodName>x</methodName><params><param><value>&bogus;</value></param></params></methodCall>",
    b"<methodCall><methodName>x</methodName><params><param><value><frob/></value></param></params></methodCall>",
    b"<methodCall a='1'><methodName>x</methodName></methodCall>",
    b"<methodCall><methodName>x</methodName></methodCall><extra/>",
    b"<methodCall><methodName>x</methodName><params><param><value>\xff\xfe</value></param></params></methodCall>",
    b"<methodCall><methodName>x</methodName><params><param><value>\x01</value></param></params></methodCall>",
    b"<methodCall><methodName>x</methodName><params>" + b"<param><value><array><data>" * 200 + b"</params></methodCall>",
])
def test_malformed_xml_gets_a_fault(xvmd, body):
    status, resp = xvmd.post("/", body, headers={"Content-Type": "text/xml"})
    assert status == 200
    with pytest.raises(xmlrpc.client.Fault) as e:
        xmlrpc.client.loads(resp)
    assert e.value.faultCode == -32700
    assert xvmd.alive()


def test_unknown_method_over_xmlrpc(xvmd):
    x = proxy(xvmd)
    s = value(x.session.login_with_password("root", xvmd.xvm("token-create", "user=root")))
    assert x.VM.frobnicate(s)["ErrorDescription"] == ["MESSAGE_METHOD_UNKNOWN", "VM.frobnicate"]
    assert x.VM.get_record(s, 1)["ErrorDescription"][0] == "FIELD_TYPE_ERROR"


def test_xenapi_py_async_and_events(xvmd):
    """What a XenAPI.py program does: log in, list, start asynchronously,
    poll the task, follow events."""
    x = proxy(xvmd)
    s = value(x.session.login_with_password("root", xvmd.xvm("token-create", "user=root"), "2.0", "xenapi-py"))
    vm = value(x.VM.install(s, "sim test", "ev"))
    assert vm in value(x.VM.get_all_records(s))
    token = value(x.event.__getattr__("from")(s, ["vm"], "", 0.0))["token"]
    task = value(x.Async.VM.start(s, vm, False, False))
    for _ in range(1000):
        if value(x.task.get_status(s, task)) != "pending":
            break
    rec = value(x.task.get_record(s, task))
    assert rec["status"] == "success" and float(rec["progress"]) == 1.0
    events = value(x.event.__getattr__("from")(s, ["vm"], token, 5.0))
    mine = [e for e in events["events"] if e["ref"] == vm]
    assert mine and mine[-1]["operation"] == "mod" and mine[-1]["snapshot"]["power_state"] == "Running"
    assert int(events["valid_ref_counts"]["vm"]) >= 1
    value(x.task.destroy(s, task))


def test_datetimes_travel_as_xmlrpc_datetimes(xvmd):
    x = proxy(xvmd)
    s = value(x.session.login_with_password("root", xvmd.xvm("token-create", "user=root")))
    vm = value(x.VM.install(s, "sim test", "dt"))
    token = value(x.event.__getattr__("from")(s, ["task"], "", 0.0))["token"]
    task = value(x.Async.VM.start(s, vm, False, False))
    while value(x.task.get_status(s, task)) == "pending":
        pass
    rec = value(x.task.get_record(s, task))
    assert isinstance(rec["created"], xmlrpc.client.DateTime) and isinstance(rec["finished"], xmlrpc.client.DateTime)
    assert str(rec["created"]) <= str(rec["finished"])
    assert isinstance(value(x.task.get_all_records(s))[task]["created"], xmlrpc.client.DateTime)
    assert isinstance(value(x.task.get_finished(s, task)), xmlrpc.client.DateTime)
    metrics = value(x.VM.get_metrics(s, vm))
    assert isinstance(value(x.VM_metrics.get_record(s, metrics))["start_time"], xmlrpc.client.DateTime)
    events = value(x.event.__getattr__("from")(s, ["task"], token, 5.0))["events"]
    assert events and all(isinstance(e["timestamp"], xmlrpc.client.DateTime) for e in events)
    assert any(isinstance(e.get("snapshot", {}).get("created"), xmlrpc.client.DateTime) for e in events)
    # Names and text stay text.
    assert value(x.task.get_name_label(s, task)) == "Async.VM.start"


def test_session_get_this_host(xvmd):
    x = proxy(xvmd)
    s = value(x.session.login_with_password("root", xvmd.xvm("token-create", "user=root")))
    host = value(x.session.get_this_host(s, s))
    assert value(x.host.get_all(s)) == [host]
    assert x.session.get_this_host(s, "OpaqueRef:other")["ErrorDescription"][0] == "HANDLE_INVALID"
