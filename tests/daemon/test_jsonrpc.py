# SPDX-License-Identifier: LGPL-2.1-or-later
"""JSON-RPC 1.0 and 2.0 shapes, XenAPI errors, and malformed requests."""
import json
import socket
import time

import pytest

from conftest import RpcError


def test_v1_and_v2_shapes(xvmd):
    s = xvmd.login_root()
    v1 = xvmd.rpc("VM.get_all", s, version="1.0")
    assert set(v1) == {"result", "error", "id"} and v1["error"] is None and v1["id"] == 1
    v2 = xvmd.rpc("VM.get_all", s)
    assert set(v2) == {"jsonrpc", "result", "id"} and v2["jsonrpc"] == "2.0"
    assert v1["result"] == v2["result"]
    e1 = xvmd.rpc("VM.get_record", s, "OpaqueRef:nope", version="1.0")
    assert e1["result"] is None and e1["error"] == ["HANDLE_INVALID", "VM", "OpaqueRef:nope"]
    e2 = xvmd.rpc("VM.get_record", s, "OpaqueRef:nope")
    assert "result" not in e2
    assert e2["error"]["message"] == "HANDLE_INVALID" and e2["error"]["data"] == ["VM", "OpaqueRef:nope"]
    assert "OpaqueRef:nope" in e2["error"]["description"]


def test_calls_are_the_librarys(xvmd):
    s = xvmd.login_root()
    vm = xvmd.call("VM.install", s, "sim test", "web1")
    assert vm.startswith("OpaqueRef:")
    xvmd.call("VM.start", s, vm, False, False)
    rec = xvmd.call("VM.get_record", s, vm)
    assert rec["power_state"] == "Running" and rec["name_label"] == "web1"
    assert vm in xvmd.call("VM.get_all_records", s)
    with pytest.raises(RpcError) as e:
        xvmd.call("VM.start", s, vm, False, False)
    assert e.value.code == "VM_BAD_POWER_STATE" and e.value.params[0] == vm
    # The CLI on the same store sees what the daemon did.
    assert xvmd.xvm("vm-list", "name-label=web1", "params=power-state", "--minimal") == "running"
    xvmd.call("VM.hard_shutdown", s, vm)
    xvmd.call("VM.uninstall", s, vm)
    assert xvmd.call("VM.get_by_name_label", s, "web1") == []


@pytest.mark.parametrize("body,code", [
    (b"{bad", -32700),
    (b"", -32700),
    (b'{"method": "VM.get_all"} trailing', -32700),
    (b"[1, 2]", -32600),
    (b'"text"', -32600),
    (b'{"params": []}', -32600),
    (b'{"method": 7, "params": []}', -32600),
    (b'{"method": "VM.get_all", "params": {"a": 1}}', -32600),
    (b'{"jsonrpc": "3.0", "method": "VM.get_all", "params": []}', -32600),
    (b"[" * 100000, -32700),
    (b'{"method": "VM.get_all", "params": ["\xff\xfe"]}', -32700),
])
def test_malformed_json(xvmd, body, code):
    status, resp = xvmd.post("/jsonrpc", body)
    assert status == 200
    err = json.loads(resp)["error"]
    assert err["code"] == code, err
    assert xvmd.call("VM.get_all", xvmd.login_root())


def test_unknown_methods_and_wrong_types(xvmd):
    s = xvmd.login_root()
    for m in ("VM.no_such_thing", "Nope.get_all", "nodot", ""):
        with pytest.raises(RpcError) as e:
            xvmd.call(m, s)
        assert e.value.code == "MESSAGE_METHOD_UNKNOWN", m
    with pytest.raises(RpcError) as e:
        xvmd.call("VM.get_record", s, 42)
    assert e.value.code == "FIELD_TYPE_ERROR"
    with pytest.raises(RpcError) as e:
        xvmd.call("VM.get_record", s)
    assert e.value.code == "MESSAGE_PARAMETER_COUNT_MISMATCH"
    with pytest.raises(RpcError) as e:
        xvmd.call("session.login_with_password", 1, 2)
    assert e.value.code == "FIELD_TYPE_ERROR"
    with pytest.raises(RpcError) as e:
        xvmd.call("session.login_with_password", "root")
    assert e.value.code == "MESSAGE_PARAMETER_COUNT_MISMATCH"


def test_malformed_http(xvmd):
    s = xvmd.login_root()
    c = xvmd.connection()
    c.request("GET", "/jsonrpc")
    assert c.getresponse().status == 405
    c.close()
    assert xvmd.post("/nowhere", b"{}")[0] == 404
    big = b"[" + b"1," * (3 << 20) + b"1]"
    assert xvmd.post("/jsonrpc", big)[0] == 413
    assert xvmd.post("/jsonrpc", b"x", headers={"Content-Length": "999999999999"})[0] == 413
    for junk in (b"GARBAGE\r\n\r\n", b"POST /jsonrpc HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                 b"\x00\x01\x02" * 100, b"POST /jsonrpc HTTP/9.9\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", xvmd.port), timeout=60) as sk:  # a loaded host answers late, not never
            sk.sendall(junk)
            sk.shutdown(socket.SHUT_WR)
            reply = sk.recv(4096)
            assert reply == b"" or reply.startswith(b"HTTP/1.1 4") or reply.startswith(b"HTTP/1.1 5"), reply
    assert xvmd.alive()
    assert xvmd.call("VM.get_all", s)


def test_client_disconnecting_mid_call(xvmd):
    s = xvmd.login_root()
    # Clients that go away while their call waits (event.from) or runs.
    token = xvmd.call("event.from", s, ["vm"], "", 0)["token"]
    wait = json.dumps({"jsonrpc": "2.0", "method": "event.from", "params": [s, ["vm"], token, 1], "id": 1}).encode()
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", xvmd.port), timeout=10) as sk:
            sk.sendall(b"POST /jsonrpc HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(wait) + wait)
    xvmd.call("VM.install", s, "sim test", "gone")
    time.sleep(1.2)  # the abandoned waits end, their answers go nowhere
    body = json.dumps({"jsonrpc": "2.0", "method": "VM.get_all_records", "params": [s], "id": 1}).encode()
    for cut in (len(body) // 2, len(body)):
        for _ in range(20):
            with socket.create_connection(("127.0.0.1", xvmd.port), timeout=10) as sk:
                sk.sendall(b"POST /jsonrpc HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:cut])
    assert xvmd.alive()
    assert xvmd.call("VM.get_all", s)
