# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs the built xvmd (XVMD) on 127.0.0.1 and a unix socket in a test's
temporary dir, with JSON-RPC helpers; tests/daemon and tests/cli share it."""
import http.client
import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

XVMD = os.environ.get("XVMD")
XVM = os.environ.get("XVM_CLI")


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class RpcError(Exception):
    def __init__(self, code, params, description=""):
        super().__init__(f"{code} {params} {description}")
        self.code, self.params, self.description = code, params, description


class Xvmd:
    """One running daemon, its config, and JSON-RPC helpers."""

    def __init__(self, tmp_path, settings):
        self.dir = tmp_path
        tmp_path.mkdir()
        self.state_dir = Path(settings.get("state_dir", tmp_path / "state"))
        self.sock = str(tmp_path / "xvmd.sock")
        self.uri = "sim://" + str(self.state_dir)
        cfg = {"address": "127.0.0.1", "port": 0, "tls": "false", "unix_socket": self.sock,
               "state_dir": str(self.state_dir), "backend": "sim", "workers": 8, "log_level": "debug"}
        auth = settings.pop("auth", {})
        cfg.update(settings)
        self.tls = cfg["tls"] == "true"
        lines = [f"{k}: {json.dumps(v) if isinstance(v, str) else v}" for k, v in cfg.items()]
        if auth:
            lines.append("auth:")
            lines += [f"  {k}: {json.dumps(v) if isinstance(v, str) else v}" for k, v in auth.items()]
        self.config = tmp_path / "xvmd.yaml"
        self.config.write_text("\n".join(lines) + "\n")
        self.log = tmp_path / "xvmd.log"
        self.env = dict(os.environ)
        self.env.pop("XVM_HC_FAULT", None)
        self.proc = None
        self.port = None

    def start(self):
        self.logf = open(self.log, "ab")
        offset = self.logf.tell()
        self.proc = subprocess.Popen([XVMD, "--foreground", "--config", str(self.config)], env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = self.log.read_text()[offset:]
            m = re.findall(r"listening on https?://127\.0\.0\.1:(\d+)", text)
            if m and "serving " in text:
                self.port = int(m[-1])
                return self
            assert self.proc.poll() is None, f"xvmd exited {self.proc.returncode}:\n{text}"
            time.sleep(0.02)
        self.stop()
        raise AssertionError("xvmd did not start:\n" + self.log.read_text())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logf.close()
        rc = self.proc.returncode if self.proc else 0
        self.proc = None
        return rc

    def alive(self):
        return self.proc.poll() is None

    # --- raw HTTP ----------------------------------------------------------
    def connection(self, unix=False, timeout=60):
        if unix:
            return UnixHTTPConnection(self.sock, timeout)
        if self.tls:
            import ssl
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def post(self, path, body, unix=False, headers=None):
        c = self.connection(unix)
        try:
            c.request("POST", path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    # --- JSON-RPC ----------------------------------------------------------
    def rpc(self, method, *params, unix=False, version="2.0"):
        req = {"method": method, "params": list(params), "id": 1}
        if version == "2.0":
            req["jsonrpc"] = "2.0"
        status, body = self.post("/jsonrpc", json.dumps(req), unix=unix)
        assert status == 200, (status, body)
        return json.loads(body)

    def call(self, method, *params, unix=False):
        resp = self.rpc(method, *params, unix=unix)
        if "error" in resp:
            e = resp["error"]
            raise RpcError(e["message"], e.get("data"), e.get("description", ""))
        return resp["result"]

    def login_root(self):
        return self.call("session.login_with_password", "root", "", "1.0", "tests", unix=True)

    def xvm(self, *args):
        """The CLI on the daemon's state, locally (the same store)."""
        env = dict(self.env, XVM_URI=self.uri)
        p = subprocess.run([XVM, *args], env=env, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()
