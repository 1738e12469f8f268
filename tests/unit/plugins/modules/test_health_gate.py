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


class Clock:
    """A fake clock that sleep() moves forward; probes may cost time too."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def watch(answers, pids, clock, stable=5, patience=10, probe_cost=0.0):
    answers, pids = iter(answers), iter(pids)

    def probe():
        clock.now += probe_cost
        return next(answers)
    return hg.watch_stable(probe, lambda: next(pids), 100, 200, stable, patience, clock=clock, sleep=clock.sleep)


def test_stable_release_passes_after_the_period():
    clock = Clock()
    assert watch([(200, None)] * 10, [100] * 10, clock) == (None, 5)


def test_slow_answers_on_a_busy_host_are_waited_for():
    clock = Clock()
    timeouts = [(None, "TimeoutError: timed out")] * 2
    problem, probes = watch(timeouts + [(200, None)] * 10, [100] * 20, clock, patience=20, probe_cost=5.0)
    assert problem is None and probes == 3


def test_no_answer_past_the_patience_fails():
    problem, _probes = watch([(None, "TimeoutError: timed out")] * 20, [100] * 20, Clock(), probe_cost=5.0)
    assert problem.startswith("within 12s stopped answering for 12s (TimeoutError: timed out), main process 100")


def test_a_new_main_process_fails_at_once():
    problem, probes = watch([(200, None)] * 10, [100, 100, 131], Clock())
    assert problem == "within 3s its main process changed (100, now 131)" and probes == 3


def test_another_status_fails_at_once():
    problem, _probes = watch([(200, None), (500, None)], [100] * 5, Clock())
    assert problem == "within 2s answered 500"
