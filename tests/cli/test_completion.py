# SPDX-License-Identifier: LGPL-2.1-or-later
"""The hidden completion entry and the bash script that calls it."""
import os
import shlex
import subprocess

import pytest

from conftest import XVM

SCRIPT = os.environ.get("XVM_CLI_COMPLETION")


pytestmark = pytest.mark.local_only("completion connects with the words it completes")


def complete(xvm, *words):
    """Candidates for the last word of `xvm WORDS...`."""
    words = ["xvm", *words]
    return xvm.ok("--complete", str(len(words) - 1), *words).splitlines()


def test_command_names(xvm):
    c = complete(xvm, "vm-s")
    assert {"vm-start", "vm-shutdown", "vm-suspend", "vm-simulate-guest"} <= set(c)
    assert all(x.startswith("vm-s") for x in c)
    assert "help" in complete(xvm, "")


def test_switches(xvm):
    assert set(complete(xvm, "--m")) == {"--minimal", "--multiple"}


def test_parameter_names(xvm):
    c = complete(xvm, "vm-start", "")
    assert {"vm=", "uuid=", "paused=", "power-state=", "other-config:"} <= set(c)
    c = complete(xvm, "vm-install", "template=sim test", "")
    assert "new-name-label=" in c and "template=" not in c
    c = complete(xvm, "vm-param-set", "me")
    assert "memory-static-max=" in c and "memory-target=" not in c   # only RW fields to set


def test_live_objects(xvm):
    a = xvm.install("alpha")
    xvm.install("beta")
    c = complete(xvm, "vm-start", "vm=")
    assert f"vm={a}" in c and "vm=alpha" in c and "vm=beta" in c
    assert "vm=sim test" not in c                      # templates do not start
    assert complete(xvm, "vm-start", "vm=al") == ["vm=alpha"]
    assert set(complete(xvm, "vm-install", "template=")) >= {"template=sim test", "template=Other install media"}
    assert f"uuid={a}" in complete(xvm, "vm-param-list", "uuid=")
    nat = xvm.ok("network-list", "--minimal")
    assert complete(xvm, "vif-create", f"vm-uuid={a}", "network-uuid=") == [f"network-uuid={nat}"]
    # -c on the command line wins over $XVM_URI
    assert complete(xvm, "-c", "sim:///nonexistent-dir-xvm", "vm-start", "vm=a") == []


def test_field_and_enum_values(xvm):
    c = complete(xvm, "vm-list", "params=name-label,VCPUs")
    assert set(c) == {"params=name-label,VCPUs-params", "params=name-label,VCPUs-max",
                      "params=name-label,VCPUs-at-startup"}
    assert "params=all" in complete(xvm, "vm-list", "params=")
    assert "param-name=other-config" in complete(xvm, "vm-param-get", "param-name=oth")
    assert set(complete(xvm, "vm-list", "power-state=")) == {
        "power-state=Halted", "power-state=Paused", "power-state=Running", "power-state=Suspended"}


def bash_complete(xvm, line):
    """COMPREPLY of the installed bash function for `line` (cursor at the end)."""
    script = (f"source {shlex.quote(SCRIPT)}\n"
              f"xvm() {{ {shlex.quote(XVM)} \"$@\"; }}\n"
              f"COMP_LINE={shlex.quote(line)}; COMP_POINT=${{#COMP_LINE}}\n"
              "_xvm xvm\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    p = subprocess.run(["bash", "-c", script], env=xvm.env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return [l for l in p.stdout.splitlines() if l]


def test_bash_script(xvm):
    xvm.install("alpha")
    assert "vm-start" in bash_complete(xvm, "xvm vm-st")
    # bash already holds the text up to '=', so the script offers what follows it
    assert bash_complete(xvm, "xvm vm-start vm=alp") == ["alpha"]
    assert bash_complete(xvm, "xvm vm-install template=sim") == ["sim\\ test"]
    assert "vm=" in bash_complete(xvm, "xvm vm-start ")
