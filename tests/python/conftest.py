# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures: a Connection on a fresh sim:// state directory per test, and a
VM installed from the "sim test" template. meson sets PYTHONPATH to the
built module and XVM_TEMPLATE_DIR to the source tree's templates."""
import pytest

import xvm

TEMPLATE = "sim test"


@pytest.fixture
def uri(tmp_path, monkeypatch):
    monkeypatch.delenv("XVM_HC_FAULT", raising=False)
    return "sim://" + str(tmp_path / "state")


@pytest.fixture
def conn(uri):
    with xvm.connect(uri) as c:
        yield c


@pytest.fixture
def vm(conn):
    return conn.install(TEMPLATE, "vm1")
