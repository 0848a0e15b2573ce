# SPDX-License-Identifier: LGPL-2.1-or-later
"""The installed type stubs match the module: xvm.pyi is what gen_stubs.py
makes of the built module, and it parses."""
import ast
import os
import subprocess
import sys

SRC = os.environ.get("XVM_PYTHON_SRC", os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))


def test_stubs_are_up_to_date():
    p = subprocess.run([sys.executable, os.path.join(SRC, "gen_stubs.py"), "--check", os.path.join(SRC, "xvm.pyi")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def test_stubs_cover_the_module():
    import xvm
    with open(os.path.join(SRC, "xvm.pyi")) as f:
        tree = ast.parse(f.read())
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    for name, cls in xvm.classes.items():
        members = {getattr(n, "name", None) or getattr(getattr(n, "target", None), "id", None)
                   for n in classes[name].body}
        assert set(cls.fields) <= members, name
    for cls in xvm.errors.values():
        assert cls.__name__ in classes
    assert {"connect", "error_for"} <= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
