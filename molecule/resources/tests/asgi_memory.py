"""Samples the memory an app's units use, on a test host, every --interval
seconds until --stop-file appears or --duration passes, then prints one JSON
line: the peak of the processes' own memory (the cgroup's anonymous memory,
what the app allocated; page cache is the kernel's to reclaim) and of the
cgroup's whole charge, both in MiB, with when each peak was seen and how many
samples were taken. The app's units (every slot) live in the slice systemd
makes for the template, system-<app>.slice; cgroup v1 and v2 alike."""
import argparse
import json
import os
import subprocess
import sys
import time

MIB = 1 << 20


def read(path):
    with open(path) as handle:
        return handle.read()


def reader(app):
    """A function that returns (anonymous, charged) bytes of system-<app>.slice."""
    group = subprocess.run(["systemctl", "show", "-p", "ControlGroup", "--value", "system-%s.slice" % app],
                           capture_output=True, text=True, check=True).stdout.strip()
    v2, v1 = "/sys/fs/cgroup" + group, "/sys/fs/cgroup/memory" + group
    if os.path.exists(os.path.join(v2, "memory.current")):
        def sample():
            stat = dict(line.split() for line in read(os.path.join(v2, "memory.stat")).splitlines())
            return int(stat["anon"]), int(read(os.path.join(v2, "memory.current")))
    elif os.path.exists(os.path.join(v1, "memory.usage_in_bytes")):
        def sample():
            stat = dict(line.split() for line in read(os.path.join(v1, "memory.stat")).splitlines())
            return int(stat["total_rss"]), int(read(os.path.join(v1, "memory.usage_in_bytes")))
    else:
        raise SystemExit("no memory cgroup for system-%s.slice (%r): is %s running?" % (app, group, app))
    return sample


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app")
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--duration", type=float, default=900.0)
    parser.add_argument("--stop-file", required=True)
    args = parser.parse_args()
    sample = reader(args.app)
    started = time.monotonic()
    peak = {"anon_mb": 0.0, "anon_at": 0.0, "current_mb": 0.0, "current_at": 0.0}
    samples = 0
    while time.monotonic() - started < args.duration and not os.path.exists(args.stop_file):
        anon, current = (value / MIB for value in sample())
        now = round(time.monotonic() - started, 1)
        if anon > peak["anon_mb"]:
            peak.update(anon_mb=round(anon, 1), anon_at=now)
        if current > peak["current_mb"]:
            peak.update(current_mb=round(current, 1), current_at=now)
        samples += 1
        time.sleep(args.interval)
    print(json.dumps(dict(peak, samples=samples, seconds=round(time.monotonic() - started, 1))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
