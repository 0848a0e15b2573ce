# SPDX-License-Identifier: LGPL-2.1-or-later
"""Connections: opening, the context manager, close(), and what happens to
objects and calls once their connection is closed."""
import gc
import sys

import pytest

import xvm


def test_connect_gives_a_connection(uri):
    conn = xvm.connect(uri)
    assert isinstance(conn, xvm.Connection)
    assert conn.uri == uri
    assert not conn.closed
    assert repr(conn) == f"<xvm.Connection {uri!r}>"
    conn.close()


def test_connect_uses_xvm_uri(uri, monkeypatch):
    monkeypatch.setenv("XVM_URI", uri)
    with xvm.connect() as conn:
        assert conn.uri == uri
    with xvm.connect(None) as conn:
        assert conn.uri == uri


def test_context_manager_closes(uri):
    with xvm.connect(uri) as conn:
        assert conn.vms.all() == []
    assert conn.closed
    assert repr(conn).endswith(" closed>")


def test_close_is_idempotent(uri):
    conn = xvm.connect(uri)
    conn.close()
    conn.close()
    assert conn.closed


def test_calls_after_close_raise(uri):
    conn = xvm.connect(uri)
    vm = conn.install("sim test", "a")
    vms = conn.vms
    conn.close()
    for call in (lambda: vm.name_label, vm.start, vm.record, vms.all, lambda: conn.call("VM.get_all"),
                 lambda: conn.install("sim test", "b"), lambda: setattr(vm, "name_label", "x")):
        with pytest.raises(xvm.SessionInvalid, match="the connection is closed") as e:
            call()
        assert isinstance(e.value, xvm.Error)
        assert e.value.code == "SESSION_INVALID"
    assert repr(vm).startswith("<xvm.VM OpaqueRef:")  # no I/O in repr


def test_objects_keep_their_connection_open(uri):
    conn = xvm.connect(uri)
    vm = conn.install("sim test", "a")
    base = sys.getrefcount(conn)
    objs = [conn.vms.by_name("a")[0] for _ in range(1000)]
    assert sys.getrefcount(conn) == base + 1000
    del objs
    assert sys.getrefcount(conn) == base
    del conn
    gc.collect()
    assert vm.name_label == "a"          # still open through vm
    assert vm.connection.uri == uri


def test_connection_cannot_be_built_directly():
    with pytest.raises(TypeError):
        xvm.Connection()


def test_methods_lists_the_method_table(conn):
    methods = conn.methods()
    assert "VM.start" in methods and "host.get_all_records" in methods
