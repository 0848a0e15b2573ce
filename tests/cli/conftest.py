# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for running the built `xvm` binary on a fresh sim:// state dir."""
import json
import os
import subprocess

import pytest

XVM = os.environ.get("XVM_CLI")


class Xvm:
    """Runs `xvm` with XVM_URI pointing at one test's own state dir."""

    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.uri = "sim://" + str(state_dir)
        self.env = dict(os.environ, XVM_URI=self.uri)
        self.env.pop("XVM_HC_FAULT", None)

    def run(self, *args, env=None, stdin=subprocess.DEVNULL, cwd=None):
        e = dict(self.env, **(env or {}))
        return subprocess.run([XVM, *args], env=e, stdin=stdin, capture_output=True, text=True, timeout=60,
                              cwd=cwd)

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


@pytest.fixture
def xvm(tmp_path):
    assert XVM, "XVM_CLI must name the built xvm binary (meson test sets it)"
    return Xvm(tmp_path)
