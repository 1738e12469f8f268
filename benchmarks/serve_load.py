"""One saturating load run inside a bench container, with the CPU each part spent.

    python3 serve_load.py --units example@blue.service --proxy caddy \
        --seconds 10 --connections 64 -- https://localhost/pid
    python3 serve_load.py --wait 30 https://localhost:8443/pid

Runs h2load (C, one epoll loop per thread) against the URL, or against a unix
socket with --unix, and prints one JSON line: requests per second, latency
percentiles from h2load's per-request log, failures, the CPU milliseconds per
request of the client, the proxy, journald and the app (a unit's main process
and all its descendants, from /proc around the run), how busy the machine's
CPUs were, and the memory (RSS) of the app and the proxy after the run.
Standard library only: it runs with the target's python3.
"""
import argparse
import json
import os
import re
import subprocess
import tempfile
import time


def stat_fields(pid):
    """Fields of /proc/<pid>/stat after the command name, which may hold spaces."""
    with open("/proc/%d/stat" % pid) as handle:
        return handle.read().rsplit(")", 1)[1].split()


def children():
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                found.setdefault(int(stat_fields(int(name))[1]), []).append(int(name))
            except (OSError, IndexError):
                continue
    return found


def unit_pids(units):
    """The main process of each unit and every process below it."""
    tree, pids = children(), []
    for unit in units:
        main = int(subprocess.run(["systemctl", "show", "-p", "MainPID", "--value", unit],
                                  capture_output=True, text=True, check=True).stdout.strip() or 0)
        todo = [main] if main else []
        while todo:
            pid = todo.pop()
            pids.append(pid)
            todo += tree.get(pid, [])
    return pids


def named_pids(name):
    result = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True, check=False)
    return [int(pid) for pid in result.stdout.split()]


def ticks(pids):
    total = 0
    for pid in pids:
        try:
            fields = stat_fields(pid)
        except OSError:
            continue
        # utime and stime: fields 14 and 15 of stat, 12 and 13 after the name.
        total += int(fields[11]) + int(fields[12])
    return total


def rss_mb(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as handle:
                total += int(re.search(r"^VmRSS:\s+(\d+)", handle.read(), re.M).group(1))
        except (OSError, AttributeError):
            continue
    return total / 1024


def machine():
    """Busy and total ticks of all CPUs (the containers share the machine's kernel)."""
    with open("/proc/stat") as handle:
        values = [int(n) for n in handle.readline().split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def percentile(sorted_values, fraction):
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def wait(args):
    """Until one request succeeds: a server just started may not answer yet."""
    deadline = time.monotonic() + args.wait
    argv = ["h2load", "--h1", "-n", "1", "-c", "1"] + (["-B", "unix:" + args.unix] if args.unix else []) + [args.url]
    while True:
        output = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
        if re.search(r"\b1 succeeded", output) and re.search(r"status codes: 1 2xx", output):
            return
        if time.monotonic() > deadline:
            raise SystemExit("%s did not answer within %d s:\n%s" % (args.url, args.wait, output))
        time.sleep(0.3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", nargs="*", default=[], help="the app's systemd units")
    parser.add_argument("--proxy", default="", help="process name of the proxy (caddy, nginx), if any")
    parser.add_argument("--unix", default="", help="connect to this unix socket instead of the URL's host")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--wait", type=int, default=0, help="only wait, up to this many seconds, for a 2xx answer")
    parser.add_argument("url")
    args = parser.parse_args()
    if args.wait:
        wait(args)
        return

    groups = {"app": lambda: unit_pids(args.units),
              "proxy": lambda: named_pids(args.proxy) if args.proxy else [],
              "journal": lambda: named_pids("systemd-journal")}
    with tempfile.NamedTemporaryFile("r", suffix=".log") as log:
        argv = ["h2load", "--h1", "-t", str(args.threads), "-c", str(args.connections), "-D", str(args.seconds),
                "--log-file", log.name]
        if args.unix:
            argv += ["-B", "unix:" + args.unix]
        before = {part: ticks(pids()) for part, pids in groups.items()}
        busy_before, total_before = machine()
        with subprocess.Popen(argv + [args.url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as client:
            output = client.stdout.read()
            _pid, status, usage = os.wait4(client.pid, 0)
        busy_after, total_after = machine()
        after = {part: ticks(pids()) for part, pids in groups.items()}
        durations = sorted(int(line.split("\t")[2]) / 1000.0 for line in log if line.count("\t") == 2)

    if os.waitstatus_to_exitcode(status) != 0 or not durations:
        raise SystemExit("h2load failed:\n" + output)
    # h2load counts a 3xx as a success and an error also as a failure: a failure
    # here is any request of the run that did not end in a 2xx, counted once.
    total, succeeded = re.search(r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded", output).groups()
    answered = re.search(r"status codes: (\d+) 2xx", output).group(1)
    rate = re.search(r"finished in ([\d.]+)s, ([\d.]+) req/s", output)
    requests = len(durations)
    tick = os.sysconf("SC_CLK_TCK")
    cpu_ms = {part: 1000.0 * (after[part] - before[part]) / tick / requests for part in groups}
    cpu_ms["client"] = 1000.0 * (usage.ru_utime + usage.ru_stime) / requests
    cipher = re.search(r"Cipher: (\S+)", output)
    print(json.dumps({
        "rps": float(rate.group(2)), "requests": requests,
        "p50_ms": percentile(durations, 0.50), "p99_ms": percentile(durations, 0.99), "max_ms": durations[-1],
        "failed": int(total) - min(int(succeeded), int(answered)),
        "cpu_ms": cpu_ms, "busy": (busy_after - busy_before) / max(total_after - total_before, 1),
        "rss_mb": {"app": rss_mb(groups["app"]()), "proxy": rss_mb(groups["proxy"]())},
        "tls": "%s %s" % (re.search(r"TLS Protocol: (\S+)", output).group(1), cipher.group(1)) if cipher else "none",
    }))


if __name__ == "__main__":
    main()
