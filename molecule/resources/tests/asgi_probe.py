"""A bounded request loop for the tests, run on a test host.

Sends --count requests (one at a time, or --concurrency at once) to the app's
unix socket or to an HTTPS URL, optionally running a command while they are in
flight, and prints one JSON line: how many were sent, answered with the
expected status, failed (with the reasons), the worker pids and the releases
that answered, and the worst latency. It stops by itself: a fixed number of
requests, each with a timeout.
"""
import argparse
import collections
import http.client
import json
import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse


def connection(args):
    if args.unix:
        # http.client sends over a socket that is already connected.
        conn = http.client.HTTPConnection("localhost", timeout=args.timeout)
        conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.sock.settimeout(args.timeout)
        conn.sock.connect(args.unix)
        return conn, args.path
    url = urllib.parse.urlsplit(args.url)
    path = (url.path or "/") + ("?" + url.query if url.query else "")
    if url.scheme == "https":
        context = ssl.create_default_context(cafile=args.cacert)
        conn = http.client.HTTPSConnection(url.hostname, url.port or 443, timeout=args.timeout, context=context)
        if args.connect:
            # The URL's name for SNI, Host and the certificate; this address for TCP.
            raw = socket.create_connection((args.connect, url.port or 443), timeout=args.timeout)
            conn.sock = context.wrap_socket(raw, server_hostname=url.hostname)
        return conn, path
    return http.client.HTTPConnection(url.hostname, url.port or 80, timeout=args.timeout), path


# Failures before any byte of a response: the server closed a connection it
# had accepted but not read. HTTP clients and proxies (Caddy among them) retry
# an idempotent GET once on these; so does the probe, and it counts the retries.
RETRYABLE = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)


def closed_by_peer(conn):
    """Whether the server closed a kept-alive connection while it was idle: a
    server sends nothing unasked on an idle HTTP/1.1 connection, so a socket
    that reads as ready holds its close. Clients that keep connections
    (browsers, urllib3, httpx) check this before they reuse one, since a
    server may close an idle connection at any time (RFC 9112, 9.3.1)."""
    return conn.sock is None or bool(select.select([conn.sock], [], [], 0)[0])


def attempt(args, post=None, kept=None):
    """One request; with kept (a dict per thread), on the connection kept
    from the thread's last request, when the server has not closed it."""
    if kept is not None and kept.get("conn") is not None and not closed_by_peer(kept["conn"]):
        conn, path = kept["conn"], kept["path"]
    else:
        if kept is not None:
            if kept.get("conn") is not None:
                kept["conn"].close()
            # Every connection after the thread's first: the server closed the one before.
            kept["reopened"] = kept.get("reopened", -1) + 1
        conn, path = connection(args)
    try:
        if post is None:
            conn.request("GET", path)
        else:
            conn.request("POST", args.post_path, body=json.dumps(post),
                         headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        status, body = response.status, response.read()
    except BaseException:
        conn.close()
        if kept is not None:
            kept["conn"] = None
        raise
    if kept is not None and not response.will_close:
        kept.update(conn=conn, path=path)
    else:
        conn.close()
        if kept is not None:
            kept["conn"] = None
    return status, body


def one_request(args, results, lock, number, kept=None):
    start = time.monotonic()
    retried = 0
    # Every --post-every'th request writes a row; a POST is never retried, as
    # a client cannot know whether a cut one ran.
    post = {"name": "probe-%d" % number} if args.post_every and number % args.post_every == 0 else None
    method = "GET" if post is None else "POST"
    try:
        try:
            status, body = attempt(args, post, kept)
        except RETRYABLE:
            if args.no_retry or post is not None:
                raise
            retried = 1
            status, body = attempt(args, kept=kept)
        expected = args.status if post is None else 201
        error = None if status == expected else "%s status %d" % (method, status)
        try:
            payload = json.loads(body)
        except ValueError:
            payload = {}
    except Exception as exc:  # every other failure counts, whatever its kind
        status, error, payload = None, "%s %s: %s" % (method, type(exc).__name__, exc), {}
    took = time.monotonic() - start
    with lock:
        results["sent"] += 1
        results["retried"] += retried
        results["latencies"].append(took)
        results["sent_by_method"][method] += 1
        if error:
            results["failed"] += 1
            results["failed_by_method"][method] += 1
            results["errors"][error] += 1
        else:
            results["ok"] += 1
            if post is not None and isinstance(payload, dict) and "id" in payload:
                results["posted_ids"].append(payload["id"])
            if isinstance(payload, dict):
                if "pid" in payload:
                    results["pids"].add(payload["pid"])
                if "release" in payload:
                    results["releases"][payload["release"]] += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--unix", help="the app's socket")
    target.add_argument("--url", help="an http(s) URL")
    parser.add_argument("--path", default="/", help="path, with --unix")
    parser.add_argument("--cacert", help="CA file to verify HTTPS with")
    parser.add_argument("--connect", help="with an https --url: the address to connect to, for a name no resolver knows")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--interval", type=float, default=0.0, help="seconds between requests")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--duration", type=float, default=600.0,
                        help="stop after this many seconds even if requests remain")
    parser.add_argument("--stop-file", help="stop early once this file exists")
    parser.add_argument("--during", help="shell command to run once the loop has started")
    parser.add_argument("--during-delay", type=float, default=0.5)
    parser.add_argument("--post-every", type=int, default=0,
                        help="make every Nth request a POST of a new row to --post-path (0: none)")
    parser.add_argument("--post-path", default="/items")
    parser.add_argument("--no-retry", action="store_true",
                        help="count a closed connection as failed at once (a request that must run once)")
    parser.add_argument("--keep-alive", action="store_true",
                        help="each thread keeps its connection open between requests, as browsers and HTTP "
                             "libraries do, and opens a new one only when the server closed it")
    args = parser.parse_args()
    if not 0 < args.count <= 100000:
        parser.error("--count must be between 1 and 100000")

    results = {"sent": 0, "ok": 0, "failed": 0, "retried": 0, "reopened": 0, "errors": collections.Counter(),
               "pids": set(), "releases": collections.Counter(), "latencies": [],
               "sent_by_method": collections.Counter(), "failed_by_method": collections.Counter(),
               "posted_ids": []}
    lock = threading.Lock()
    remaining = iter(range(1, args.count + 1))

    deadline = time.monotonic() + args.duration

    def stopped():
        return time.monotonic() > deadline or (args.stop_file and os.path.exists(args.stop_file))

    def worker():
        kept = {} if args.keep_alive else None
        for number in remaining:
            if stopped():
                break
            one_request(args, results, lock, number, kept)
            if args.interval:
                time.sleep(args.interval)
        if kept:
            with lock:
                results["reopened"] += max(0, kept.get("reopened", 0))

    threads = [threading.Thread(target=worker) for _thread in range(args.concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    during = None
    if args.during:
        time.sleep(args.during_delay)
        during = subprocess.run(args.during, shell=True, capture_output=True, text=True, check=False)
    for thread in threads:
        thread.join()
    latencies = sorted(results["latencies"])
    print(json.dumps({
        "sent": results["sent"],
        "ok": results["ok"],
        "failed": results["failed"],
        "retried": results["retried"],
        "reopened": results["reopened"],
        "errors": dict(results["errors"]),
        "sent_by_method": dict(results["sent_by_method"]),
        "failed_by_method": dict(results["failed_by_method"]),
        "posted_ids": sorted(results["posted_ids"]),
        "pids": sorted(results["pids"]),
        "releases": dict(results["releases"]),
        "seconds": round(time.monotonic() - started, 2),
        "p50": round(latencies[len(latencies) // 2], 4) if latencies else None,
        "p99": round(latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)], 4) if latencies else None,
        "max_latency": round(latencies[-1], 4) if latencies else None,
        "during_rc": None if during is None else during.returncode,
        "during_output": None if during is None else (during.stdout + during.stderr)[-2000:],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
