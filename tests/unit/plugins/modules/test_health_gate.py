# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import http.server
import os
import socket
import socketserver
import threading

import pytest

from ansible_collections.asgi.deploy.plugins.modules import health_gate as hg


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status = 200 if self.path == "/health" else 503
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        request, _address = super().get_request()
        return request, ("local", 0)


@pytest.fixture
def unix_app(tmp_path):
    path = str(tmp_path / "app.sock")
    server = UnixServer(path, Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield path
    server.shutdown()
    server.server_close()


@pytest.fixture
def tcp_app():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_unix_socket_answer(unix_app):
    assert hg.ask(unix_app, "/health", 2) == (200, None)
    assert hg.ask(unix_app, "/", 2) == (503, None)


def test_tcp_answer(tcp_app):
    assert hg.ask(tcp_app, "/health", 2) == (200, None)


def test_nobody_listening(tmp_path):
    status, error = hg.ask(str(tmp_path / "missing.sock"), "/", 1)
    assert status is None and "FileNotFoundError" in error


def test_listening_but_never_answering(tmp_path):
    path = str(tmp_path / "silent.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(1)
    try:
        status, error = hg.ask(path, "/", 0.5)
    finally:
        listener.close()
        os.unlink(path)
    assert status is None and "timed out" in error
