# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What serves an app on a host: uvicorn's processes and their memory, the
number of its workers and how to change it, and an HTTP answer over a unix
socket or TCP, waited for as a health gate does."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import time

from ansible_collections.asgi.deploy.plugins.module_utils.capacity import read_text


def rss_mb(pid):
    """Resident memory of a process in MiB, or None if it is gone."""
    status = read_text("/proc/%d/status" % pid)
    for line in (status or "").splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024.0, 1)
    return None


def processes(proc="/proc"):
    """(pid, ppid, name) of every process."""
    found = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        stat = read_text(os.path.join(proc, entry, "stat"))
        if not stat:
            continue
        # The name is in parentheses and may itself hold spaces or parentheses.
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        found.append((int(entry), ppid, name))
    return found


def started_after_boot(pid, proc="/proc"):
    """Seconds from boot to a process's start (its stat's starttime), or None."""
    stat = read_text(os.path.join(proc, str(pid), "stat"))
    try:
        # The command name, in parentheses, may hold spaces.
        return int(stat.rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
    except (AttributeError, IndexError, ValueError):
        return None


def release_of(link):
    """The release a link (current, previous) names, or an empty string."""
    try:
        return os.path.basename(os.readlink(link)) if link else ""
    except OSError:
        return ""


def is_worker(pid, proc="/proc"):
    """Whether a process is one of uvicorn's workers: a multiprocessing spawn
    child (uvicorn's resource tracker is a child too, but not a worker)."""
    try:
        with open(os.path.join(proc, str(pid), "cmdline"), "rb") as handle:
            return b"multiprocessing.spawn" in handle.read()
    except OSError:
        return False


def worker_pids(main_pid, table=None, proc="/proc"):
    """The pids of uvicorn's workers under its main process, sorted."""
    table = processes(proc) if table is None else table
    return sorted(pid for pid, ppid, _name in table if ppid == main_pid and is_worker(pid, proc))


def workers_of(main_pid, table):
    """uvicorn's workers under its main process, by pid, with their memory."""
    workers = [{"pid": pid, "rss_mb": rss_mb(pid)} for pid in worker_pids(main_pid, table)]
    return [w for w in workers if w["rss_mb"] is not None]


def signal_pending(pid, sig, proc="/proc"):
    """Whether a signal sent to a process has not yet reached it."""
    status = read_text(os.path.join(proc, str(pid), "status")) or ""
    for line in status.splitlines():
        if line.startswith(("SigPnd:", "ShdPnd:")) and int(line.split()[1], 16) >> (sig - 1) & 1:
            return True
    return False


# After a signal has reached the supervisor: time for its Python handler to
# queue it, which runs as soon as the signal interrupts the supervisor's wait.
SIGNAL_GAP = 0.02


def resize(main_pid, target, timeout, count=None, kill=os.kill, clock=time.monotonic, sleep=time.sleep,
           pending=signal_pending):
    """Bring uvicorn's supervisor (main_pid) to `target` workers: SIGTTIN adds
    one, SIGTTOU retires the newest after its requests finish. The supervisor
    queues its signals and acts on them every half second; two of one kind
    that reach it before it queued the first arrive as one. So the SIGTTINs
    go one after another, each once the one before has reached it, and the
    new workers start together; a SIGTTOU goes once the worker before it has
    gone, as a retire waits for its requests. Returns (workers before,
    workers after, None or the problem)."""
    count = count or (lambda: len(worker_pids(main_pid)))
    before = now = count()
    if now == 0:
        # A single-process uvicorn has no supervisor: SIGTTIN would stop it.
        return before, now, "process %d runs no workers of its own (a single uvicorn process)" % main_pid
    if target < 1:
        return before, now, "a supervisor keeps at least one worker, asked for %d" % target
    deadline = clock() + timeout
    while now != target:
        if now < target:
            for sent in range(target - now):
                if sent:
                    while pending(main_pid, signal.SIGTTIN) and clock() < deadline:
                        sleep(0.005)
                    sleep(SIGNAL_GAP)
                kill(main_pid, signal.SIGTTIN)
            wanted = target
        else:
            kill(main_pid, signal.SIGTTOU)
            wanted = now - 1
        while now != wanted:
            if clock() > deadline:
                return before, now, "%d workers after %ds, not %d" % (now, timeout, target)
            sleep(0.05)
            now = count()
    return before, now, None


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def ask(target, url_path, timeout):
    """One GET to a unix socket path or host:port: (status, error, the body's
    first line). status is None when nothing answered; error says why."""
    if target.startswith("/"):
        connection = UnixHTTPConnection(target, timeout)
    else:
        host, _sep, port = target.rpartition(":")
        connection = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=timeout)
    try:
        connection.request("GET", url_path, headers={"Host": "localhost"})
        response = connection.getresponse()
        body = response.read(4096)
        first = body.decode("utf-8", "replace").strip().splitlines()[:1]
        return response.status, None, (first[0][:200] if first else "")
    except (OSError, http.client.HTTPException) as error:
        return None, "%s: %s" % (type(error).__name__, error), ""
    finally:
        connection.close()


# An app that answers, but not what was asked, this many times in a row has
# given its answer: a deploy need not wait out the timeout for it. 503 is
# the answer of an app that is still starting, and is waited for.
DEFINITE = 3
STARTING = 503


def wait_healthy(probe, expected, timeout, failed=None, clock=time.monotonic, sleep=time.sleep):
    """Ask probe() -> (status, error, first line) until it answers `expected`.
    Gives up at `timeout`, when failed() says the unit has failed, or when the
    app answered the same other status DEFINITE times in a row (not 503).
    Each attempt waits twice as long as the one before (5 s, 10 s, 20 s ...,
    at most until the deadline): a worker that hangs is left for another,
    while a host slow enough that a first answer takes longer than 5 s is
    not asked again and again, each unanswered request queued behind the
    last. Returns (None or the problem, attempts, last status)."""
    deadline = clock() + timeout
    attempts, repeated, last, patience = 0, 0, None, 5.0
    while True:
        attempts += 1
        status, error, first = probe(max(1.0, min(patience, deadline - clock())))
        patience *= 2
        if status == expected:
            return None, attempts, status
        repeated = repeated + 1 if status is not None and status != STARTING and status == last else 1
        last = status
        if status is not None and status != STARTING and repeated >= DEFINITE:
            return ("answered %s %d times in a row%s" % (status, repeated, (": " + first) if first else ""),
                    attempts, status)
        if failed is not None and failed():
            return ("%s; its unit has failed and systemd stopped restarting it"
                    % ("answered %s" % status if status is not None else error), attempts, status)
        if clock() >= deadline:
            return ("did not answer %s within %ss (%s)"
                    % (expected, timeout, "answered %s%s" % (status, (": " + first) if first else "")
                       if status is not None else error), attempts, status)
        sleep(1)


def watch_stable(probe, pid, main_pid, expected, stable, patience, clock=time.monotonic, sleep=time.sleep):
    """Watch a release that answered for `stable` seconds. It fails when its
    main process changes (a crash and a restart), when it answers another
    status, or when it stops answering for longer than `patience` seconds; a
    slow answer on a busy host is waited for, not counted as a crash. The
    watch ends on a good answer once `stable` seconds have passed.
    Returns (problem or None, probes made)."""
    healthy_at = last_good = clock()
    probes = 0
    while True:
        sleep(1)
        probes += 1
        status, error = probe()[:2]
        now_pid = pid()
        elapsed = clock() - healthy_at
        if now_pid != main_pid:
            return ("within %.0fs its main process changed (%s, now %s)" % (elapsed, main_pid, now_pid or "none"),
                    probes)
        if status == expected:
            last_good = clock()
            if elapsed >= stable:
                return None, probes
        elif status is not None:
            return "within %.0fs answered %s" % (elapsed, status), probes
        elif clock() - last_good > patience:
            return ("within %.0fs stopped answering for %.0fs (%s), main process %s still running"
                    % (elapsed, clock() - last_good, error, main_pid), probes)


def socket_connections(path, text=None):
    """Connections on a unix socket path other than its listening socket
    (/proc/net/unix): requests still in flight there, as the proxy opens one
    per request."""
    if text is None:
        text = read_text("/proc/net/unix") or ""
    count = 0
    for line in text.splitlines()[1:]:
        fields = line.split()
        # Flags 00010000 mark the listening socket.
        if len(fields) >= 8 and fields[-1] == path and fields[3] != "00010000":
            count += 1
    return count


def drain(path, timeout, clock=time.monotonic, sleep=time.sleep, connections=socket_connections):
    """Wait until no connection is left on a unix socket path, at most
    `timeout` seconds. Returns the connections left (0 when it drained)."""
    deadline = clock() + timeout
    left = connections(path)
    while left and clock() < deadline:
        sleep(0.2)
        left = connections(path)
    return left
