# SPDX-License-Identifier: LGPL-2.1-or-later
"""Logins (PAM, tokens, local root), sessions, and calls without one."""
import os
import stat
import time

import pytest

from conftest import RpcError

SECRET = "right-pw"


@pytest.fixture
def pam_dir(tmp_path):
    """A PAM service of the test's own (pam_exec checks the password), so no
    system account or password is touched."""
    d = tmp_path / "pam.d"
    d.mkdir()
    check = tmp_path / "check-password"
    check.write_text("#!/bin/sh\n"
                     "pw=$(tr -d '\\000')\n"
                     f'[ "$pw" = "{SECRET}" ] && {{ [ "$PAM_USER" = root ] || [ "$PAM_USER" = nobody ]; }}\n')
    check.chmod(stat.S_IRWXU)
    (d / "xvmd-test").write_text(f"auth required pam_exec.so quiet expose_authtok {check}\n"
                                 "account required pam_permit.so\n")
    return d


def pam_daemon(make_xvmd, pam_dir, group="xvm-admin"):
    return make_xvmd(auth={"pam_service": "xvmd-test", "pam_confdir": str(pam_dir), "admin_group": group})


def test_pam_login_success_and_failure(make_xvmd, pam_dir):
    d = pam_daemon(make_xvmd, pam_dir)
    s = d.call("session.login_with_password", "root", SECRET, "1.0", "pytest")
    assert s.startswith("OpaqueRef:")
    assert isinstance(d.call("VM.get_all", s), list)
    with pytest.raises(RpcError) as e:
        d.call("session.login_with_password", "root", "wrong", "1.0", "pytest")
    assert e.value.code == "SESSION_AUTHENTICATION_FAILED"
    assert e.value.params[0] == "root"
    assert "refused" in d.log.read_text()


def test_pam_login_needs_the_admin_group(make_xvmd, pam_dir):
    d = pam_daemon(make_xvmd, pam_dir, group="xvm-admin-nonexistent")
    with pytest.raises(RpcError) as e:
        d.call("session.login_with_password", "nobody", SECRET)
    assert e.value.code == "SESSION_AUTHENTICATION_FAILED"
    assert "neither root nor in the group" in d.log.read_text()


def test_pam_login_of_an_admin_group_member(make_xvmd, pam_dir):
    # nobody's primary group is nogroup: as the admin group it lets nobody in.
    d = pam_daemon(make_xvmd, pam_dir, group="nogroup")
    assert d.call("session.login_with_password", "nobody", SECRET).startswith("OpaqueRef:")


def test_token_login_and_revocation(xvmd):
    token = xvmd.xvm("token-create", "user=ci-bot", "name-label=for tests")
    assert token.startswith("xvmtok-")
    s = xvmd.call("session.login_with_password", "ci-bot", token, "1.0", "terraform")
    assert xvmd.call("VM.get_all", s)
    # A password-only client may leave the user empty.
    assert xvmd.call("session.login_with_password", "", token).startswith("OpaqueRef:")
    forged = token[:-1] + ("1" if token[-1] == "0" else "0")
    for user, secret in (("someone-else", token), ("ci-bot", forged), ("ci-bot", "xvmtok-garbage")):
        with pytest.raises(RpcError) as e:
            xvmd.call("session.login_with_password", user, secret)
        assert e.value.code == "SESSION_AUTHENTICATION_FAILED"
    uuid = xvmd.xvm("token-list", "--minimal")
    assert uuid == token.split("-", 1)[1][:36]
    xvmd.xvm("token-destroy", f"uuid={uuid}")
    with pytest.raises(RpcError) as e:
        xvmd.call("session.login_with_password", "ci-bot", token)
    assert e.value.code == "SESSION_AUTHENTICATION_FAILED"
    # Sessions opened before the revocation stay until they end.
    assert xvmd.call("VM.get_all", s)


def test_local_root_on_the_unix_socket(xvmd):
    s = xvmd.login_root()
    assert xvmd.call("VM.get_all", s, unix=True)
    # Over TCP the same empty password is refused.
    with pytest.raises(RpcError) as e:
        xvmd.call("session.login_with_password", "root", "")
    assert e.value.code == "SESSION_AUTHENTICATION_FAILED"
    # A session works on either listener.
    assert xvmd.call("VM.get_all", s)


def test_every_call_without_a_session_is_refused(xvmd):
    s = xvmd.login_root()
    methods = xvmd.call("system.listMethods", s)
    assert "VM.start" in methods and "session.logout" in methods
    for m in methods:
        if m == "session.login_with_password":
            continue
        for session in ("", "OpaqueRef:NULL", "OpaqueRef:" + "0" * 36):
            with pytest.raises(RpcError) as e:
                xvmd.call(m, session, "OpaqueRef:x")
            assert e.value.code == "SESSION_INVALID", m
    with pytest.raises(RpcError) as e:
        xvmd.call("VM.get_all")
    assert e.value.code == "SESSION_INVALID"


def test_logout(xvmd):
    s = xvmd.login_root()
    assert xvmd.call("session.logout", s) is None
    with pytest.raises(RpcError) as e:
        xvmd.call("VM.get_all", s)
    assert e.value.code == "SESSION_INVALID" and e.value.params == [s]


def test_idle_sessions_expire(make_xvmd):
    d = make_xvmd(auth={"session_idle_timeout": 2})
    active, idle = d.login_root(), d.login_root()
    for _ in range(8):
        time.sleep(0.3)
        d.call("VM.get_all", active)
    with pytest.raises(RpcError) as e:
        d.call("VM.get_all", idle)
    assert e.value.code == "SESSION_INVALID"
    assert d.call("VM.get_all", active)


def test_least_recently_used_session_is_evicted(make_xvmd):
    d = make_xvmd(auth={"max_sessions_per_user": 3})
    s1, s2, s3 = d.login_root(), d.login_root(), d.login_root()
    d.call("VM.get_all", s1)  # s2 is now the least recently used
    s4 = d.login_root()
    with pytest.raises(RpcError):
        d.call("VM.get_all", s2)
    for s in (s1, s3, s4):
        assert d.call("VM.get_all", s)
