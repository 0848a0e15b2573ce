# SPDX-License-Identifier: LGPL-2.1-or-later
"""vm-list over 10,000 VMs lists every one (its speed is measured in bench/, not here)."""
import ctypes
import os
import subprocess

import pytest

from conftest import XVM

LIBXVM = os.environ.get("XVM_LIBXVM")
N = 10000


@pytest.mark.skipif(not LIBXVM, reason="XVM_LIBXVM (the built libxvm.so) is not set")
def test_list_10000_vms(xvm):
    # Installing through the CLI would take minutes: install in-process through the library.
    lib = ctypes.CDLL(LIBXVM)
    lib.xvm_connect.argtypes = [ctypes.c_char_p, ctypes.c_uint, ctypes.POINTER(ctypes.c_void_p)]
    lib.xvm_vm_install.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint,
                                   ctypes.POINTER(ctypes.c_char_p)]
    lib.xvm_disconnect.argtypes = [ctypes.c_void_p]
    conn = ctypes.c_void_p()
    assert lib.xvm_connect(xvm.uri.encode(), 0, ctypes.byref(conn)) == 0
    for i in range(N):
        ref = ctypes.c_char_p()
        assert lib.xvm_vm_install(conn, b"sim test", b"vm%05d" % i, 0, ctypes.byref(ref)) == 0
    lib.xvm_disconnect(conn)

    p = subprocess.run([XVM, "vm-list"], env=xvm.env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("power-state ( RO): halted") == N
    names = {line.split(": ", 1)[1] for line in p.stdout.splitlines() if "name-label" in line}
    assert names == {"vm%05d" % i for i in range(N)}
