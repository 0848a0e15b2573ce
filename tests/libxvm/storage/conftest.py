# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the nfs SR's tests: the whole session runs in a network
namespace of its own (tests/lib/nfs_server.py), each test gets a fresh
ganesha exporting a temporary directory and a Connection on a sim://
state directory (storage needs no guest). meson sets PYTHONPATH to the
built module."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))

import xvm  # noqa: E402
from nfs_server import NfsServer, private_network  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def network():
    with private_network():
        yield


@pytest.fixture
def nfs(tmp_path):
    server = NfsServer(tmp_path / "nfs").start()
    yield server
    server.stop()
    assert not server.running()


@pytest.fixture
def conn(tmp_path, monkeypatch):
    monkeypatch.delenv("XVM_HC_FAULT", raising=False)
    with xvm.connect("sim://" + str(tmp_path / "state")) as c:
        yield c
