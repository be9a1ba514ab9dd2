"""HTTPS through the guarded backend: we connect to the vetted IP, TLS still verifies."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from connectors.http import FetchError, PoliteClient
from monitor.config import HttpSettings

from .conftest import FeedServer, _make_handler, reply


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[FeedServer]:
    """A local HTTPS server with a fresh self-signed certificate for localhost."""
    if shutil.which("openssl") is None:
        # Under CI the HTTPS server must run: fail rather than skip it.
        if os.environ.get("CI"):
            pytest.fail("openssl not found on PATH: apt-get install -y openssl", pytrace=False)
        pytest.skip("openssl is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    fs = FeedServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(fs))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    fs.port = httpd.server_address[1]
    threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    yield fs
    httpd.shutdown()
    httpd.server_close()


def test_https_verifies_certificates_by_default(tls_server: FeedServer) -> None:
    tls_server.routes["/f"] = reply(200, b"<rss/>")
    url = f"https://localhost:{tls_server.port}/f"
    with PoliteClient(HttpSettings(allow_private=["127.0.0.1"], per_host_delay_s=0)) as c:
        with pytest.raises(FetchError) as err:
            c.get(url)  # self-signed: refused
        assert err.value.kind == "network" and "CERTIFICATE_VERIFY_FAILED" in str(err.value)
    insecure = HttpSettings(allow_private=["127.0.0.1"], per_host_delay_s=0, verify_tls=False)
    with PoliteClient(insecure) as c:
        assert c.get(url).body == b"<rss/>"  # TLS over the vetted address works
