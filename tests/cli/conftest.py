# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for running the built `xvm` binary on a fresh sim:// state dir."""
import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from xvmd import Xvmd  # noqa: E402

XVM = os.environ.get("XVM_CLI")


class Xvm:
    """Runs `xvm` with XVM_URI pointing at one test's own state dir."""

    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.uri = "sim://" + str(state_dir)
        self.env = dict(os.environ, XVM_URI=self.uri)
        self.env.pop("XVM_HC_FAULT", None)
        self.remote = []   # switches that send the command to an xvmd

    def run(self, *args, env=None, stdin=subprocess.DEVNULL, cwd=None):
        e = dict(self.env, **(env or {}))
        return subprocess.run([XVM, *self.remote, *args], env=e, stdin=stdin, capture_output=True, text=True,
                              timeout=60, cwd=cwd)

    def ok(self, *args, **kw):
        """Runs a command that must succeed; returns its stdout, stripped."""
        p = self.run(*args, **kw)
        assert p.returncode == 0, f"xvm {' '.join(args)} -> {p.returncode}\n{p.stderr}"
        assert p.stderr == "", p.stderr
        return p.stdout.strip()

    def fails(self, code, *args, **kw):
        """Runs a command that must fail with exit `code`; returns its stderr."""
        p = self.run(*args, **kw)
        assert p.returncode == code, f"xvm {' '.join(args)} -> {p.returncode}, wanted {code}\n{p.stdout}{p.stderr}"
        assert p.stderr.startswith("Error: "), p.stderr
        return p.stderr

    def install(self, name, template="sim test"):
        return self.ok("vm-install", f"template={template}", f"new-name-label={name}")

    def get(self, uuid, param, key=None):
        args = ["vm-param-get", f"uuid={uuid}", f"param-name={param}"]
        if key:
            args.append(f"param-key={key}")
        return self.ok(*args)

    def power(self, uuid):
        return self.get(uuid, "power-state")

    def records(self, *args):
        return json.loads(self.ok(*args, "--json"))

    def snapshot(self):
        """Everything the CLI can see of the VMs, to check that a failure changed nothing."""
        return (self.records("vm-list", "params=all"), self.records("template-list", "params=all"))


def through_daemon(x, tmp_path):
    """Sends x's commands to an xvmd serving x's state: `-s 127.0.0.1 -p PORT
    --nossl -u root -pw TOKEN`, as an xe user would."""
    token = x.ok("token-create", "user=root")
    d = Xvmd(tmp_path / "xvmd", {"state_dir": str(x.state_dir)}).start()
    x.remote = ["-s", "127.0.0.1", "-p", str(d.port), "--nossl", "-u", "root", "-pw", token]
    return d


@pytest.fixture(params=["local", "remote"])
def xvm(request, tmp_path):
    """The CLI on a fresh state dir, in-process (local) and through xvmd
    (remote): every test shows the two do the same."""
    assert XVM, "XVM_CLI must name the built xvm binary (meson test sets it)"
    x = Xvm(tmp_path / "state")
    x.state_dir.mkdir()
    if request.param == "remote" and request.node.get_closest_marker("local_only"):
        pytest.skip(request.node.get_closest_marker("local_only").args[0])
    d = through_daemon(x, tmp_path) if request.param == "remote" else None
    yield x
    if d:
        d.stop()


def pytest_configure(config):
    config.addinivalue_line("markers", "local_only(why): the test needs the CLI's own process or state dir")
