# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import http.server
import os
import signal
import socket
import socketserver
import threading

import pytest

from ansible_collections.asgi.deploy.plugins.module_utils import serving as hg


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status = 200 if self.path == "/health" else 503
        body = b"ok" if status == 200 else b"not ready\nsecond line"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

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
    assert hg.ask(unix_app, "/health", 2) == (200, None, "ok")
    assert hg.ask(unix_app, "/", 2) == (503, None, "not ready")


def test_tcp_answer(tcp_app):
    assert hg.ask(tcp_app, "/health", 2) == (200, None, "ok")


def test_nobody_listening(tmp_path):
    status, error, _first = hg.ask(str(tmp_path / "missing.sock"), "/", 1)
    assert status is None and "FileNotFoundError" in error


def test_listening_but_never_answering(tmp_path):
    path = str(tmp_path / "silent.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(1)
    try:
        status, error, _first = hg.ask(path, "/", 0.5)
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


def wait(answers, clock, timeout=60, failed=None):
    answers = iter(answers)

    def probe(_timeout):
        clock.now += 0.1
        return next(answers)
    return hg.wait_healthy(probe, 200, timeout, failed=failed, clock=clock, sleep=clock.sleep)


def test_a_starting_app_is_waited_for_until_it_answers():
    refused = [(None, "ConnectionRefusedError: refused", "")] * 5
    assert wait(refused + [(503, None, "starting")] * 4 + [(200, None, "ok")], Clock()) == (None, 10, 200)


def test_a_definite_wrong_answer_fails_within_seconds_with_its_first_line():
    clock = Clock()
    problem, attempts, status = wait([(404, None, '{"detail":"Not Found"}')] * 100, clock)
    assert (attempts, status) == (3, 404) and clock.now < 5
    assert problem == 'answered 404 3 times in a row: {"detail":"Not Found"}'


def test_changing_wrong_answers_are_waited_for_until_one_repeats():
    answers = [(500, None, "a"), (502, None, "b"), (500, None, "c")] + [(500, None, "d")] * 5
    problem, attempts, _status = wait(answers, Clock())
    assert attempts == 5 and problem.startswith("answered 500 3 times")


def test_no_answer_gives_up_at_the_timeout_with_the_error():
    problem, _attempts, status = wait([(None, "TimeoutError: timed out", "")] * 100, Clock(), timeout=10)
    assert status is None and problem == "did not answer 200 within 10s (TimeoutError: timed out)"


def test_each_unanswered_attempt_waits_twice_as_long_until_the_deadline():
    clock, asked = Clock(), []

    def probe(timeout):
        asked.append(timeout)
        clock.now += timeout
        return None, "TimeoutError: timed out", ""
    problem, attempts, _status = hg.wait_healthy(probe, 200, 60, clock=clock, sleep=clock.sleep)
    assert asked == [5.0, 10.0, 20.0, 60 - 38.0] and attempts == 4
    assert problem == "did not answer 200 within 60s (TimeoutError: timed out)"


def test_a_failed_unit_stops_the_wait():
    problem, attempts, _status = wait([(None, "ConnectionRefusedError: refused", "")] * 100, Clock(),
                                      failed=iter([False, False, True]).__next__)
    assert attempts == 3 and problem.endswith("its unit has failed and systemd stopped restarting it")


class Supervisor:
    """uvicorn's supervisor as resize() sees it: a signal reaches it `reach`
    seconds after it is sent, and one sent while another of its kind has not
    yet reached it is lost (the two arrive as one). It acts on what it queued
    at its next tick, every half second: a new worker counts at once, a
    retired one once it has stopped (`delay`)."""

    def __init__(self, clock, workers, delay=0.5, dead_after=None, reach=0.001):
        self.clock, self.workers, self.delay, self.dead_after, self.reach = clock, workers, delay, dead_after, reach
        self.flying, self.changes, self.signals, self.lost = [], [], [], 0

    def pending(self, _pid, sig):
        return any(at > self.clock.now and kind == sig for at, kind in self.flying)

    def kill(self, _pid, sig):
        self.signals.append(sig)
        if self.dead_after is not None and len(self.signals) > self.dead_after:
            return
        if self.pending(_pid, sig):
            self.lost += 1
            return
        arrives = self.clock.now + self.reach
        self.flying.append((arrives, sig))
        tick = (int(arrives / 0.5) + 1) * 0.5
        self.changes.append((tick, 1) if sig == signal.SIGTTIN else (tick + self.delay, -1))

    def count(self):
        due = [change for at, change in self.changes if at <= self.clock.now]
        self.changes = [(at, change) for at, change in self.changes if at > self.clock.now]
        self.workers += sum(due)
        return self.workers

    def resize(self, target, timeout=30):
        return hg.resize(100, target, timeout, count=self.count, kill=self.kill, clock=self.clock,
                         sleep=self.clock.sleep, pending=self.pending)


def test_new_workers_start_together_at_the_supervisors_next_tick():
    clock = Clock()
    supervisor = Supervisor(clock, 2)
    assert supervisor.resize(5) == (2, 5, None)
    assert supervisor.signals == [signal.SIGTTIN] * 3 and supervisor.lost == 0
    # One tick for all three, not one tick each.
    assert clock.now < 0.6


def test_a_sigttin_waits_until_the_one_before_has_reached_the_supervisor():
    clock = Clock()
    supervisor = Supervisor(clock, 2, reach=0.3)
    assert supervisor.resize(4) == (2, 4, None)
    assert supervisor.signals == [signal.SIGTTIN] * 2 and supervisor.lost == 0


def test_workers_retire_one_at_a_time():
    clock = Clock()
    supervisor = Supervisor(clock, 4)
    assert supervisor.resize(2) == (4, 2, None)
    assert supervisor.signals == [signal.SIGTTOU] * 2
    # The second was sent once the first worker had gone.
    assert clock.now >= 2 * 0.5 + 2 * supervisor.delay


def test_a_resize_to_the_count_running_sends_nothing():
    clock = Clock()
    supervisor = Supervisor(clock, 3)
    assert supervisor.resize(3) == (3, 3, None) and supervisor.signals == []


def test_a_signal_is_pending_until_it_reaches_the_process(tmp_path):
    (tmp_path / "100").mkdir()
    status = tmp_path / "100" / "status"
    status.write_text("Name:\tuvicorn\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000100000\n")
    assert hg.signal_pending(100, signal.SIGTTIN, proc=str(tmp_path))
    assert not hg.signal_pending(100, signal.SIGTTOU, proc=str(tmp_path))
    status.write_text("Name:\tuvicorn\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n")
    assert not hg.signal_pending(100, signal.SIGTTIN, proc=str(tmp_path))
    assert not hg.signal_pending(101, signal.SIGTTIN, proc=str(tmp_path))


def test_resize_gives_up_when_the_supervisor_does_not_follow():
    clock = Clock()
    supervisor = Supervisor(clock, 4, dead_after=1)
    before, after, problem = supervisor.resize(2, timeout=10)
    assert (before, after) == (4, 3) and problem == "3 workers after 10s, not 2"


def test_resize_never_signals_a_single_uvicorn_process():
    clock = Clock()
    supervisor = Supervisor(clock, 0)
    _before, _after, problem = supervisor.resize(2, timeout=10)
    assert "single uvicorn process" in problem and supervisor.signals == []


def test_workers_are_the_spawned_children_of_the_main_process(tmp_path):
    for pid, ppid, cmdline in ((100, 1, b"uvicorn\0app:app"),
                               (101, 100, b"python\0-c\0from multiprocessing.spawn import spawn_main\0"),
                               (102, 100, b"python\0-c\0from multiprocessing.resource_tracker import main\0"),
                               (103, 100, b"python\0-c\0from multiprocessing.spawn import spawn_main\0"),
                               (104, 7, b"python\0-c\0from multiprocessing.spawn import spawn_main\0")):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text("%d (python3 x) S %d 1 1" % (pid, ppid))
        (tmp_path / str(pid) / "cmdline").write_bytes(cmdline)
    assert hg.worker_pids(100, proc=str(tmp_path)) == [101, 103]


UNIX = """Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 1001 /run/shop/blue.sock
0000000000000000: 00000003 00000000 00000000 0001 03 1002 /run/shop/blue.sock
0000000000000000: 00000003 00000000 00000000 0001 03 1003 /run/shop/blue.sock
0000000000000000: 00000002 00000000 00010000 0001 01 1004 /run/shop/green.sock
0000000000000000: 00000003 00000000 00000000 0001 03 1005
"""


def test_connections_on_a_socket_leave_out_its_listener():
    assert hg.socket_connections("/run/shop/blue.sock", UNIX) == 2
    assert hg.socket_connections("/run/shop/green.sock", UNIX) == 0


def test_drain_waits_until_the_connections_are_gone_or_the_timeout():
    clock = Clock()
    left = iter([3, 2, 0])
    assert hg.drain("/x", 10, clock=clock, sleep=clock.sleep, connections=lambda _path: next(left)) == 0
    clock = Clock()
    assert hg.drain("/x", 1, clock=clock, sleep=clock.sleep, connections=lambda _path: 1) == 1 and clock.now >= 1
