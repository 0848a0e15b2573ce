# SPDX-License-Identifier: LGPL-2.1-or-later
"""`meson install --destdir` lays out a usable SDK: a program built with
`pkg-config --cflags --libs xvm` against the installed headers and library
links and runs, and the installed library exports only the public API."""
import os
import re
import subprocess

BUILD = os.environ["XVM_BUILD_DIR"]
SOURCE = os.environ["XVM_SOURCE_DIR"]


def run(argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


def test_installed_sdk_builds_and_runs_the_example(tmp_path):
    dest = tmp_path / "dest"
    run(["meson", "install", "-C", BUILD, "--destdir", str(dest), "--no-rebuild", "--quiet"])
    pcs = list(dest.rglob("xvm.pc"))
    assert len(pcs) == 1
    assert list(dest.rglob("include/xvm/xvm.h"))
    assert list(dest.rglob("templates/other-install-media.yaml"))
    assert list(dest.rglob("bash-completion/completions/xvm"))

    env = dict(os.environ, PKG_CONFIG_PATH=str(pcs[0].parent), PKG_CONFIG_SYSROOT_DIR=str(dest))
    flags = run(["pkg-config", "--cflags", "--libs", "xvm"], env=env).stdout.split()
    exe = tmp_path / "vm-lifecycle"
    run(["cc", "-std=c11", "-Wall", "-Werror", os.path.join(SOURCE, "examples", "vm-lifecycle.c"),
         "-o", str(exe)] + flags, env=env)

    libdir = next(p.parent for p in dest.rglob("libxvm.so.0"))
    templates = next(dest.rglob("templates/other-install-media.yaml")).parent
    env = dict(os.environ, LD_LIBRARY_PATH=str(libdir), XVM_TEMPLATE_DIR=str(templates))
    out = run([str(exe), f"sim://{tmp_path}/state"], env=env).stdout
    assert "example-vm" in out and "Running" in out


def test_library_exports_only_the_public_api():
    lib = next(p for p in (os.path.join(BUILD, "libxvm", f) for f in os.listdir(os.path.join(BUILD, "libxvm")))
               if p.endswith(".so.0"))
    syms = run(["nm", "-D", "--defined-only", lib]).stdout.split("\n")
    names = {line.split()[-1].split("@")[0] for line in syms if line.strip()}
    # the version nodes (XVM_0.1, XVM_0.2, ...) show as symbols too
    names = {n for n in names if not re.fullmatch(r"XVM_\d+\.\d+", n)}
    assert names and all(n.startswith("xvm_") for n in names), sorted(n for n in names if not n.startswith("xvm_"))
    soname = run(["objdump", "-p", lib]).stdout
    assert "SONAME               libxvm.so.0" in soname
