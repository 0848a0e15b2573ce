# SPDX-License-Identifier: LGPL-2.1-or-later
"""Consoles and the limits of a clean shutdown on real guests."""
import os
import pty
import select
import socket
import subprocess
import time

from conftest import READY, TICK, XVM, wait_for


def test_console_records_and_vnc_answers(xvm):
    uuid = xvm.guest("g1")
    xvm.ok("vm-start", "vm=g1")
    consoles = xvm.records("console-list", f"VM={uuid}", "params=all")
    by_protocol = {c["protocol"]: c for c in consoles}
    assert set(by_protocol) == {"vt100", "rfb"}, consoles
    assert by_protocol["vt100"]["location"].endswith(".sock")
    assert "log" in by_protocol["vt100"]["other-config"]
    host, port = by_protocol["rfb"]["location"].rsplit(":", 1)
    assert host == "127.0.0.1", "the graphical console listens on loopback only"
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.settimeout(10)
        assert s.recv(12).startswith(b"RFB 003.")
    ws = int(by_protocol["rfb"]["other-config"]["websocket_port"])
    with socket.create_connection((host, ws), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                  b"Sec-WebSocket-Protocol: binary\r\n\r\n")
        s.settimeout(10)
        assert s.recv(64).startswith(b"HTTP/1.1 101"), "the websocket listener upgrades"
    xvm.ok("vm-shutdown", "vm=g1", "--force")
    assert xvm.records("console-list", f"VM={uuid}") == [], "a stopped VM has no consoles"


def test_clean_shutdown_times_out_and_leaves_the_vm_running(xvm):
    # Without ACPI (pc machine) the guest never sees the power button.
    uuid = xvm.guest("deaf", "platform:machine=pc", "platform:acpi=false", "other-config:shutdown_timeout=2")
    xvm.ok("vm-start", "vm=deaf")
    con = xvm.console("deaf")
    con.wait(READY)
    err = xvm.fails("vm-shutdown", "vm=deaf")
    assert "VM_SHUTDOWN_TIMEOUT" in err and "still running" in err, err
    assert xvm.power(uuid) == "running"
    assert len(xvm.qemu(uuid)) == 1
    xvm.ok("vm-shutdown", "vm=deaf", "--force")
    assert xvm.power(uuid) == "halted"
    wait_for(lambda: not xvm.qemu(uuid), 10, "QEMU to exit")


def test_uefi_firmware_starts(xvm):
    uuid = xvm.install("efi")
    xvm.ok("vm-param-set", f"uuid={uuid}", "HVM-boot-params:firmware=uefi")
    xvm.ok("vm-start", "vm=efi")
    assert xvm.power(uuid) == "running"
    (pid,) = xvm.qemu(uuid)
    argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    assert any(b"OVMF" in a and b"pflash" in a for a in argv) or any(b"OVMF" in a for a in argv), argv
    xvm.ok("vm-shutdown", "vm=efi", "--force")


def test_interactive_console_on_a_terminal(xvm):
    """At a terminal `xvm console` is interactive: the guest's output comes
    through live and Ctrl-] detaches, leaving the VM running."""
    uuid = xvm.guest("tty")
    xvm.ok("vm-start", "vm=tty")
    master, slave = pty.openpty()
    proc = subprocess.Popen([XVM, "console", "vm=tty"], env=xvm.env, stdin=slave, stdout=slave, stderr=slave,
                            close_fds=True)
    os.close(slave)
    try:
        seen, deadline = b"", time.monotonic() + 20
        while not TICK.search(seen.decode(errors="replace")) and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                seen += os.read(master, 4096)
        assert TICK.search(seen.decode(errors="replace")), seen[-500:]
        os.write(master, b"\x1d")  # Ctrl-]
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert xvm.power(uuid) == "running", "detaching leaves the VM running"
    xvm.ok("vm-shutdown", "vm=tty", "--force")
