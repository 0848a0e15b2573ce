# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures: a Connection on a fresh sim:// state directory per test, and a
VM installed from the "sim test" template. meson sets PYTHONPATH to the
built module and XVM_TEMPLATE_DIR to the source tree's templates.

Tests marked through_daemon run twice: on the state directory itself
(local) and through an xvmd serving it that the test starts on 127.0.0.1
and stops (remote), connected as an API client would be:
xvm.connect("xvm+tcp://127.0.0.1:PORT", user="root", password=TOKEN)."""
import os
import sys

import pytest

import xvm

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from xvmd import Xvmd  # noqa: E402

TEMPLATE = "sim test"


def pytest_configure(config):
    config.addinivalue_line("markers", "through_daemon: run the test locally and through xvmd (the conn fixture)")


def pytest_generate_tests(metafunc):
    if "conn" in metafunc.fixturenames and metafunc.definition.get_closest_marker("through_daemon"):
        metafunc.parametrize("conn", ["local", "remote"], indirect=True)


@pytest.fixture
def state_dir(tmp_path):
    return tmp_path / "state"


@pytest.fixture
def uri(state_dir, monkeypatch):
    monkeypatch.delenv("XVM_HC_FAULT", raising=False)
    return "sim://" + str(state_dir)


@pytest.fixture
def xvmd(uri, state_dir, tmp_path):
    """An xvmd serving state_dir on 127.0.0.1, and an API token of root's
    made beforehand; stopped after the test, which it must survive."""
    assert os.environ.get("XVMD"), "XVMD must name the built xvmd (meson test sets it)"
    with xvm.connect(uri) as local:
        token = local.call("token.create", "root", "python tests")
    # Not a line per call: the log shares the file system whose figures the
    # file SR reports live, which records are compared on between calls.
    d = Xvmd(tmp_path / "xvmd", {"state_dir": str(state_dir), "log_level": "info"}).start()
    yield d, token
    assert d.stop() == 0, d.log.read_text()


@pytest.fixture
def conn(request, uri):
    if getattr(request, "param", "local") == "local":
        with xvm.connect(uri) as c:
            yield c
        return
    d, token = request.getfixturevalue("xvmd")
    with xvm.connect(f"xvm+tcp://127.0.0.1:{d.port}", user="root", password=token) as c:
        yield c


@pytest.fixture
def vm(conn):
    return conn.install(TEMPLATE, "vm1")
