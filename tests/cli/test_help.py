# SPDX-License-Identifier: LGPL-2.1-or-later
"""help, help --all, help COMMAND, and usage errors that never touch the state."""
import pytest

pytestmark = pytest.mark.local_only("help and usage errors are offline: no daemon is involved")


def test_help_lists_commands(xvm):
    out = xvm.ok("help")
    for cmd in ("vm-install", "vm-list", "vm-start", "vm-param-set", "template-list", "host-list",
                "pool-list", "sr-list", "task-list", "host-param-list", "vm-simulate-guest"):
        assert cmd in out
    assert "--minimal" in out and "--json" in out
    assert not (xvm.state_dir / "xvm.db").exists(), "help must not open the state"


def test_bare_xvm_is_help(xvm):
    assert "vm-install" in xvm.ok()


def test_help_command(xvm):
    out = xvm.ok("help", "vm-install")
    assert "command name            : vm-install" in out
    assert "reqd params     : template, new-name-label" in out
    assert "description" in out
    out = xvm.ok("help", "vm-shutdown")
    assert "--force" in out and "--multiple" in out


def test_help_all_describes_every_command(xvm):
    out = xvm.ok("help", "--all")
    summary = xvm.ok("help")
    lines = summary.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Commands"))
    names = [n.strip() for line in lines[start + 1:] for n in line.split(",") if n.strip()]
    assert len(names) > 40
    for name in names:
        assert f"command name            : {name}\n" in out, name


def test_help_unknown_command(xvm):
    err = xvm.fails(2, "help", "vm-fly")
    assert "vm-fly" in err


def test_unknown_command(xvm):
    err = xvm.fails(2, "vm-fly")
    assert "unknown command 'vm-fly'" in err
    assert "xvm help" in err
    assert not (xvm.state_dir / "xvm.db").exists()


def test_usage_errors_do_not_open_the_state(xvm):
    for args in (["vm-list", "colour=red"], ["vm-install", "template=sim test"],
                 ["vm-list", "other-config:=x"], ["vm-list", "power-state=asleep"],
                 ["vm-start", "vm=x", "--bogus"]):
        err = xvm.fails(2, *args)
        assert err.count("\n") == 2 and "See 'xvm help" in err, err
    assert not (xvm.state_dir / "xvm.db").exists()


def test_explicit_uri_switch(xvm, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    uuid = xvm.ok("-c", f"sim://{other}", "vm-install", "template=sim test", "new-name-label=elsewhere")
    assert (other / "xvm.db").exists()
    assert xvm.ok("-c", f"sim://{other}", "vm-list", "--minimal") == uuid
    assert xvm.ok("vm-list", "--minimal") == ""   # $XVM_URI's state has no VM
