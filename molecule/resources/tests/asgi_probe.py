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
        return http.client.HTTPSConnection(url.hostname, url.port or 443,
                                           timeout=args.timeout, context=context), path
    return http.client.HTTPConnection(url.hostname, url.port or 80, timeout=args.timeout), path


# Failures before any byte of a response: the server closed a connection it
# had accepted but not read. HTTP clients and proxies (Caddy among them) retry
# an idempotent GET once on these; so does the probe, and it counts the retries.
RETRYABLE = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)


def attempt(args):
    conn, path = connection(args)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def one_request(args, results, lock):
    start = time.monotonic()
    retried = 0
    try:
        try:
            status, body = attempt(args)
        except RETRYABLE:
            if args.no_retry:
                raise
            retried = 1
            status, body = attempt(args)
        error = None if status == args.status else "status %d" % status
        try:
            payload = json.loads(body)
        except ValueError:
            payload = {}
    except Exception as exc:  # every other failure counts, whatever its kind
        status, error, payload = None, "%s: %s" % (type(exc).__name__, exc), {}
    took = time.monotonic() - start
    with lock:
        results["sent"] += 1
        results["retried"] += retried
        results["latencies"].append(took)
        if error:
            results["failed"] += 1
            results["errors"][error] += 1
        else:
            results["ok"] += 1
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
    parser.add_argument("--no-retry", action="store_true",
                        help="count a closed connection as failed at once (a request that must run once)")
    args = parser.parse_args()
    if not 0 < args.count <= 100000:
        parser.error("--count must be between 1 and 100000")

    results = {"sent": 0, "ok": 0, "failed": 0, "retried": 0, "errors": collections.Counter(),
               "pids": set(), "releases": collections.Counter(), "latencies": []}
    lock = threading.Lock()
    remaining = iter(range(args.count))

    deadline = time.monotonic() + args.duration

    def stopped():
        return time.monotonic() > deadline or (args.stop_file and os.path.exists(args.stop_file))

    def worker():
        for _request in remaining:
            if stopped():
                return
            one_request(args, results, lock)
            if args.interval:
                time.sleep(args.interval)

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
        "errors": dict(results["errors"]),
        "pids": sorted(results["pids"]),
        "releases": dict(results["releases"]),
        "seconds": round(time.monotonic() - started, 2),
        "p50": round(latencies[len(latencies) // 2], 4) if latencies else None,
        "max_latency": round(latencies[-1], 4) if latencies else None,
        "during_rc": None if during is None else during.returncode,
        "during_output": None if during is None else (during.stdout + during.stderr)[-2000:],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
