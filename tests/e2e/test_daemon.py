# SPDX-License-Identifier: LGPL-2.1-or-later
"""xvmd on the qemu backend with real guests: a slow shutdown of one VM does
not hold up calls about another, a guest that powers off on its own is dealt
with without any call, and a restarted daemon re-adopts running guests."""
import os
import shutil
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import READY, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from xvmd import RpcError, Xvmd  # noqa: E402


@pytest.fixture
def daemon(xvm):
    assert os.environ.get("XVMD"), "XVMD must name the built xvmd (meson test sets it)"
    d = Xvmd(Path(xvm.state_dir + "-xvmd"),
             {"state_dir": xvm.state_dir, "backend": "qemu", "workers": 8})
    d.env = dict(xvm.env)
    d.start()
    yield d
    d.stop()
    shutil.rmtree(d.dir, ignore_errors=True)


def stored_power(xvm, uuid):
    db = sqlite3.connect(f"file:{xvm.state_dir}/xvm.db?mode=ro", uri=True)
    try:
        return db.execute("SELECT power_state FROM VM WHERE uuid = ?", (uuid,)).fetchone()[0]
    finally:
        db.close()


def test_a_slow_shutdown_holds_up_no_other_vm(xvm, daemon):
    deaf = xvm.guest("deaf", "platform:machine=pc", "platform:acpi=false", "other-config:shutdown_timeout=4")
    busy = xvm.guest("busy")
    s = daemon.login_root()
    refs = {u: daemon.call("VM.get_by_uuid", s, u) for u in (deaf, busy)}
    for u in (deaf, busy):
        daemon.call("VM.start", s, refs[u], False, False)
    xvm.console("deaf").wait(READY)
    xvm.console("busy").wait(READY)
    out = {}

    def slow():
        t0 = time.monotonic()
        try:
            daemon.call("VM.clean_shutdown", s, refs[deaf])
        except RpcError as e:
            out["error"] = e.code
        out["took"] = time.monotonic() - t0
    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    worst = 0
    while t.is_alive() and worst < 5:
        t0 = time.monotonic()
        daemon.call("VM.get_record", s, refs[busy])
        daemon.call("VM.pause", s, refs[busy])
        daemon.call("VM.unpause", s, refs[busy])
        worst = max(worst, time.monotonic() - t0)
    t.join()
    assert out == {"error": "VM_SHUTDOWN_TIMEOUT", "took": pytest.approx(out["took"])} and out["took"] >= 4
    assert worst < 2, f"a call about another VM took {worst:.2f} s during the slow shutdown"
    # The timed-out shutdown left it running, its operation over.
    daemon.call("VM.pause", s, refs[deaf])
    for u in (deaf, busy):
        daemon.call("VM.hard_shutdown", s, refs[u])


def test_guest_poweroff_is_applied_without_a_call_and_restart_readopts(xvm, daemon):
    off = xvm.guest("off", "actions-after-shutdown=destroy")
    stays = xvm.guest("stays")
    s = daemon.login_root()
    refs = {u: daemon.call("VM.get_by_uuid", s, u) for u in (off, stays)}
    daemon.call("VM.start", s, refs[stays], False, False)
    xvm.console("stays").wait(READY)
    (pid,) = xvm.qemu(stays)
    # The daemon stops; the guest keeps running; it is back under the next one.
    assert daemon.stop() == 0
    assert xvm.qemu(stays) == [pid]
    daemon.start()
    s = daemon.login_root()
    assert daemon.call("VM.get_power_state", s, refs[stays]) == "Running" and xvm.qemu(stays) == [pid]
    # A guest that powers off by itself: halted by the daemon, nobody calling.
    xvm.ok("vm-param-set", f"uuid={off}", "PV-args=poweroff")
    daemon.call("VM.start", s, refs[off], False, False)
    wait_for(lambda: stored_power(xvm, off) == "Halted", 30, "the daemon to halt the VM whose guest powered off")
    wait_for(lambda: not xvm.qemu(off), 10, "its QEMU to exit")
    daemon.call("VM.hard_shutdown", s, refs[stays])
