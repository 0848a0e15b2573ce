# SPDX-License-Identifier: LGPL-2.1-or-later
"""TLS: a self-signed pair made on first start, kept across restarts."""
import ssl
import xmlrpc.client

import pytest


def test_tls_with_a_generated_certificate(make_xvmd, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    d = make_xvmd(tls="true", certificate=str(cert), key=str(key))
    assert "made a self-signed certificate" in d.log.read_text()
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert ("DNS", "localhost") in ssl._ssl._test_decode_cert(str(cert))["subjectAltName"]
    # The client trusts exactly that certificate.
    ctx = ssl.create_default_context(cafile=str(cert))
    ctx.check_hostname = False
    x = xmlrpc.client.ServerProxy(f"https://127.0.0.1:{d.port}/", context=ctx)
    token = d.xvm("token-create", "user=root")
    s = x.session.login_with_password("root", token)["Value"]
    assert x.VM.get_all(s)["Status"] == "Success"
    assert d.call("VM.get_all", d.call("session.login_with_password", "root", token))
    # Plain HTTP on the TLS port gets nowhere.
    with pytest.raises(Exception):
        xmlrpc.client.ServerProxy(f"http://127.0.0.1:{d.port}/").session.login_with_password("root", token)
    first = cert.read_bytes()
    d.stop()
    d.start()
    assert cert.read_bytes() == first
    assert d.call("VM.get_all", d.call("session.login_with_password", "root", token))


def test_half_a_pair_is_refused(make_xvmd, tmp_path):
    cert = tmp_path / "cert.pem"
    cert.write_text("junk")
    with pytest.raises(AssertionError) as e:
        make_xvmd(tls="true", certificate=str(cert), key=str(tmp_path / "missing.pem"))
    assert "give both or neither" in str(e.value)
