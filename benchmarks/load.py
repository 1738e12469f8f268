"""A small HTTP/1.1 load generator for the benchmarks: keep-alive connections
to a unix socket or an http(s) URL, for a fixed time, then a JSON summary.

Only the standard library, so it runs on the benchmark host's own Python (the
same client for every configuration: the ratios compare servers, not clients).
Bounded: it stops after --duration seconds, whatever happens.
"""
import argparse
import asyncio
import json
import os
import ssl
import time
import urllib.parse


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def open_connection(args):
    if args.unix:
        return await asyncio.open_unix_connection(args.unix)
    url = urllib.parse.urlsplit(args.url)
    context = None
    if url.scheme == "https":
        context = ssl.create_default_context(cafile=args.cacert)
    return await asyncio.open_connection(url.hostname, url.port or (443 if context else 80), ssl=context)


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _sep, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def client(args, request, deadline, results, started):
    writer = None
    while time.monotonic() < deadline:
        begin = time.monotonic()
        try:
            if writer is None:
                reader, writer = await open_connection(args)
            writer.write(request)
            status = await asyncio.wait_for(read_response(reader), args.timeout)
            error = None if status == 200 else "status %d" % status
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, asyncio.LimitOverrunError,
                ValueError, ssl.SSLError) as exc:
            error = type(exc).__name__
            if writer is not None:
                writer.close()
            writer = None
        end = time.monotonic()
        results["latencies"].append(end - begin)
        results["timeline"].append((round(begin - started, 3), round(end - begin, 4), error is None))
        if error:
            results["errors"][error] = results["errors"].get(error, 0) + 1
            # A refused connection would otherwise spin: back off a little.
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


async def main(args):
    if args.unix:
        host, path = "localhost", args.path
    else:
        url = urllib.parse.urlsplit(args.url)
        host, path = url.hostname, url.path or "/"
    request = ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: asgi-deploy-bench\r\n\r\n" % (path, host)).encode()
    results = {"latencies": [], "timeline": [], "errors": {}}
    cpu_before = os.times()
    started = time.monotonic()
    deadline = started + args.duration
    during = None
    if args.during:
        async def run_during():
            await asyncio.sleep(args.during_delay)
            process = await asyncio.create_subprocess_shell(args.during)
            return await process.wait()
        during = asyncio.ensure_future(run_during())
    await asyncio.gather(*(client(args, request, deadline, results, started) for _client in range(args.connections)))
    took = time.monotonic() - started
    cpu_after = os.times()
    failed = sum(results["errors"].values())
    latencies = results["latencies"]
    summary = {
        "requests": len(latencies), "failed": failed, "errors": results["errors"],
        "rps": round((len(latencies) - failed) / took, 1),
        "p50_ms": round(1000 * percentile(latencies, 0.50), 2) if latencies else None,
        "p99_ms": round(1000 * percentile(latencies, 0.99), 2) if latencies else None,
        "max_ms": round(1000 * max(latencies), 1) if latencies else None,
        "during_rc": (await during) if during else None,
        # The client's own CPU: on a small host it competes with the servers.
        "cpu_s": round(cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system, 3),
    }
    if args.timeline:
        summary["timeline"] = results["timeline"]
    print(json.dumps(summary))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--unix", help="path of a unix socket")
    target.add_argument("--url", help="http:// or https:// URL")
    parser.add_argument("--path", default="/pid", help="path, with --unix")
    parser.add_argument("--cacert", help="CA file for https")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a response may take")
    parser.add_argument("--during", help="shell command to run once, during the load")
    parser.add_argument("--during-delay", type=float, default=3.0)
    parser.add_argument("--timeline", action="store_true", help="add every request's start, latency, ok")
    parsed = parser.parse_args()
    if not 0 < parsed.duration <= 300 or not 0 < parsed.connections <= 512:
        parser.error("--duration must be in (0, 300] seconds and --connections in 1..512")
    asyncio.run(main(parsed))
