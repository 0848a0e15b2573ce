# SPDX-License-Identifier: LGPL-2.1-or-later
"""libxvm's remote client: the CLI's -s/-p/-u/-pw/-pwf, ~/.xvm, xvm+unix://,
TLS verification, and Python over a daemon."""
import os
import subprocess

import pytest

from conftest import XVM


def cli(*args, home=None, env=None):
    e = dict(os.environ)
    e.pop("XVM_URI", None)
    if home:
        e["HOME"] = str(home)
    e.update(env or {})
    return subprocess.run([XVM, *args], env=e, capture_output=True, text=True, timeout=60)


def ok(*args, **kw):
    p = cli(*args, **kw)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_unix_socket_as_root(xvmd):
    uri = f"xvm+unix://{xvmd.sock}"
    uuid = ok("-c", uri, "vm-install", "template=sim test", "new-name-label=u1")
    ok("-c", uri, "vm-start", "vm=u1")
    assert xvmd.xvm("vm-list", "name-label=u1", "params=power-state", "--minimal") == "running"
    assert ok("-c", uri, "vm-list", "power-state=running", "--minimal") == uuid
    # The same over the environment.
    assert ok("vm-list", "--minimal", env={"XVM_URI": uri}) == uuid


def test_switches_password_file_and_dot_xvm(xvmd, tmp_path):
    token = xvmd.xvm("token-create", "user=root")
    remote = ["-s", "127.0.0.1", "-p", str(xvmd.port), "--nossl"]
    uuid = ok(*remote, "-u", "root", "-pw", token, "vm-install", "template=sim test", "new-name-label=r1")
    pwf = tmp_path / "pw"
    pwf.write_text(token + "\n")
    assert ok(*remote, "-u", "root", "-pwf", str(pwf), "vm-list", "--minimal") == uuid
    home = tmp_path / "home"
    home.mkdir()
    (home / ".xvm").write_text(f"# as xe's ~/.xe\nserver=127.0.0.1\nport={xvmd.port}\nnossl=true\n"
                               f"username=root\npassword={token}\n")
    assert ok("vm-list", "--minimal", home=home) == uuid
    # The command line wins over the file.
    p = cli("-pw", "wrong", "vm-list", home=home)
    assert p.returncode == 1 and p.stderr.startswith("Error: SESSION_AUTHENTICATION_FAILED"), p.stderr
    (home / ".xvm").write_text("frobnicate=1\n")
    p = cli("vm-list", home=home)
    assert p.returncode == 2 and "unknown setting 'frobnicate'" in p.stderr


@pytest.mark.parametrize("args,message", [
    (["-c", "sim:///tmp/x", "-s", "h"], "-c excludes"),
    (["-s", "h", "-pw", "a", "-pwf", "/dev/null"], "exclude each other"),
    (["-u", "root"], "for a remote host"),
    (["-p", "80"], "need a host"),
    (["-s", "a/b"], "host name or address"),
    (["-s", "h", "-p", "eighty"], "port number"),
])
def test_usage_errors(tmp_path, args, message):
    p = cli(*args, "vm-list", home=tmp_path, env={"XVM_URI": f"sim://{tmp_path}/state"})
    assert p.returncode == 2 and message in p.stderr, p.stderr
    assert not (tmp_path / "state").exists()


def test_refused_and_unreachable(xvmd, tmp_path):
    p = cli("-s", "127.0.0.1", "-p", str(xvmd.port), "--nossl", "-pw", "nope", "vm-list")
    assert p.returncode == 1 and p.stderr.startswith("Error: SESSION_AUTHENTICATION_FAILED"), p.stderr
    p = cli("-c", f"xvm+unix://{tmp_path}/no-such.sock", "vm-list")
    assert p.returncode == 1 and p.stderr.startswith("Error: CONNECTION_FAILED"), p.stderr
    for uri in ("xvm://", "xvm://h:0", "xvm://h:99999", "xvm+unix://relative", "xvm://h?frob=1"):
        p = cli("-c", uri, "vm-list")
        assert p.returncode == 1 and p.stderr.startswith("Error: URI_INVALID"), (uri, p.stderr)


def test_tls_is_verified(make_xvmd, tmp_path):
    cert = tmp_path / "cert.pem"
    d = make_xvmd(tls="true", certificate=str(cert), key=str(tmp_path / "key.pem"))
    token = d.xvm("token-create", "user=root")
    remote = ["-s", "127.0.0.1", "-p", str(d.port), "-pw", token]
    p = cli(*remote, "vm-list")
    assert p.returncode == 1 and p.stderr.startswith("Error: CONNECTION_FAILED"), p.stderr
    assert "sim test" in ok(*remote, "--ca", str(cert), "template-list")
    assert "sim test" in ok("-c", f"xvm://127.0.0.1:{d.port}?no_verify=1", "-pw", token, "template-list")


def test_python_over_the_daemon_logs_in_again(make_xvmd):
    import xvm
    d = make_xvmd(auth={"session_idle_timeout": 1})
    with xvm.connect(f"xvm+unix://{d.sock}") as conn:
        vm = conn.install("sim test", "py1")
        vm.start()
        assert vm.power_state == "Running"
        import time
        time.sleep(1.5)  # the session expires; the client opens another
        vm.hard_shutdown()
        assert vm.power_state == "Halted"
        with pytest.raises(xvm.VMBadPowerState):
            vm.hard_shutdown()
    assert d.log.read_text().count("root logged in") == 2
    # Closing the connection ended its session, without opening another.
    assert d.log.read_text().count("root logged out") == 1


def test_one_remote_connection_from_many_threads(xvmd):
    import threading

    import xvm
    errors = []
    with xvm.connect(f"xvm+unix://{xvmd.sock}") as conn:
        vms = [conn.install("sim test", f"t{i}") for i in range(8)]

        def work(vm):
            try:
                for _ in range(20):
                    vm.start()
                    assert vm.power_state == "Running"
                    vm.hard_shutdown()
                    assert conn.vms.records()[vm.ref]["power_state"] == "Halted"
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        threads = [threading.Thread(target=work, args=(vm,)) for vm in vms]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert not errors, errors[:3]
