# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tls_certificates against a TLS server on loopback with a certificate made here."""
from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading

import pytest

MODULE = "ansible_collections.asgi.deploy.plugins.modules.tls_certificates"
pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")


@pytest.fixture
def server(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "30", "-subj", "/CN=shop.test/O=Unit Test CA", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn = listener.accept()[0]
            except OSError:
                return
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()


def call(tmp_path, **args):
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    done = subprocess.run([sys.executable, "-m", MODULE, str(path)], capture_output=True, text=True, check=False,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    return json.loads(done.stdout)


def test_expiry_and_issuer_of_what_the_server_presents(tmp_path, server):
    result = call(tmp_path, domains=["shop.test", "*.shop.test"], port=server)
    cert = result["certificates"]["shop.test"]
    assert cert["error"] is None and cert["days_left"] in (29, 30), result
    assert "CN=shop.test" in cert["issuer"] and "O=Unit Test CA" in cert["issuer"]
    assert "wildcard" in result["certificates"]["*.shop.test"]["error"]


def test_no_server_is_an_error_per_domain(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = call(tmp_path, domains=["shop.test"], port=port)
    assert "ConnectionRefusedError" in result["certificates"]["shop.test"]["error"]
