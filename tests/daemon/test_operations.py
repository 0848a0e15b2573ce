# SPDX-License-Identifier: LGPL-2.1-or-later
"""Running xvmd: the configuration file, systemd's readiness protocol,
detaching without --foreground, and the installed unit."""
import os
import signal
import socket
import struct
import subprocess
import time

import pytest

from conftest import XVMD


def run_xvmd(tmp_path, text, *extra):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    return subprocess.run([XVMD, "--foreground", "--config", str(cfg), *extra], capture_output=True, text=True,
                          timeout=30)


@pytest.mark.parametrize("text,message", [
    ("port: [1, 2]\n", "must be a single value"),
    ("port: 70000\n", "port must be a whole number"),
    ("tls: maybe\n", "tls must be true or false"),
    ("frobnicate: 1\n", "unknown setting 'frobnicate'"),
    ("auth:\n  nope: 1\n", "unknown setting 'auth.nope'"),
    ("auth: 3\n", "auth must be a mapping"),
    ("backend: xen\n", "backend must be qemu or sim"),
    ("state_dir: relative\n", "absolute path"),
    ("log_level: loud\n", "log_level must be"),
    ("port: 1\naddress: \"unclosed\n", "YAML syntax error"),
    ("- a list\n", "must be a mapping"),
])
def test_bad_configuration(tmp_path, text, message):
    p = run_xvmd(tmp_path, text)
    assert p.returncode == 2 and message in p.stderr, p.stderr


def test_bad_switches(tmp_path):
    p = subprocess.run([XVMD, "--frobnicate"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "Usage" in p.stderr
    p = run_xvmd(tmp_path, "port: 0\n", "--log-level", "loud")
    assert p.returncode == 2 and "--log-level" in p.stderr


def test_systemd_notify(make_xvmd, tmp_path):
    path = str(tmp_path / "notify")
    sk = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sk.bind(path)
    sk.settimeout(30)
    os.environ["NOTIFY_SOCKET"] = path
    try:
        d = make_xvmd()
    finally:
        del os.environ["NOTIFY_SOCKET"]
    assert sk.recv(256) == b"READY=1"
    d.stop()
    assert sk.recv(256) == b"STOPPING=1"


def test_detached_daemon(tmp_path):
    sock = tmp_path / "xvmd.sock"
    cfg = tmp_path / "xvmd.yaml"
    cfg.write_text(f"address: 127.0.0.1\nport: 0\ntls: false\nunix_socket: {sock}\n"
                   f"state_dir: {tmp_path}/state\nbackend: sim\n")
    # It returns once the child listens.
    p = subprocess.run([XVMD, "--config", str(cfg)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout == "", p.stderr
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(str(sock))
    pid, uid, gid = struct.unpack("3i", c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    c.close()
    assert pid != os.getpid() and uid == 0
    os.kill(pid, signal.SIGTERM)
    for _ in range(500):
        if not sock.exists():
            break
        time.sleep(0.02)
    assert not sock.exists(), "the daemon removes its socket when it stops"
    # A start that fails reports it through the exit status.
    cfg.write_text(f"address: 203.0.113.300\nport: 0\nunix_socket: ''\nstate_dir: {tmp_path}/state\nbackend: sim\n")
    assert subprocess.run([XVMD, "--config", str(cfg)], timeout=60).returncode == 1


def test_the_unit_file(tmp_path):
    unit = os.path.join(os.path.dirname(XVMD), "xvmd.service")
    text = open(unit).read()
    assert "Type=notify" in text and "KillMode=process" in text and "--foreground" in text
    local = tmp_path / "xvmd.service"
    local.write_text(text.replace(text.split("ExecStart=")[1].split()[0], XVMD))
    if subprocess.run(["which", "systemd-analyze"], capture_output=True).returncode == 0:
        p = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
