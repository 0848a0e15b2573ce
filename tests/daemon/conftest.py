# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures that run the built xvmd on 127.0.0.1 and a unix socket in a temporary dir."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from xvmd import XVM, XVMD, RpcError, Xvmd  # noqa: E402,F401


@pytest.fixture
def make_xvmd(tmp_path):
    assert XVMD, "XVMD must name the built xvmd (meson test sets it)"
    started = []

    def make(**settings):
        d = Xvmd(tmp_path / f"d{len(started)}", settings)
        started.append(d)
        return d.start()

    yield make
    for d in started:
        d.stop()


@pytest.fixture
def xvmd(make_xvmd):
    return make_xvmd()
