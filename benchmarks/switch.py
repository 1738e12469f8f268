"""The switch by host size: how two releases share the memory the workers were
sized from, and what users see.

    .venv/bin/python benchmarks/switch.py      (make bench runs it too)

For hosts of 512 MiB, 1 GiB and 2 GiB (one of this machine's systemd
containers each, reached over SSH), the example app whose workers hold about
110 MiB each (as real apps' do), with the default settings (app_workers:
auto). Four events, each under GET and POST load through Caddy (the
molecule resources' request probe, two at a time) with the app's memory
sampled every 100 ms: a restart (app_restart), a new release, a release
whose health path answers 500, and a rollback. Per event: the workers
before, during (serving + new) and after the switch, how the plan shared the
memory, failed requests, the worst latency, and the app's peak memory
against its budget (the workers' budget and two supervisors). Writes
benchmarks/RESULTS-switch.md.
"""
import argparse
import json
import os
import pathlib
import re
import sys
import tempfile
import time

import bench

RESULTS = os.path.join(bench.HERE, "RESULTS-switch.md")
SIZES_MB = (512, 1024, 2048)
PROBE = os.path.join(bench.PROJECT, "molecule", "resources", "tests", "asgi_probe.py")
SAMPLER = os.path.join(bench.PROJECT, "molecule", "resources", "tests", "asgi_memory.py")
# The POSTs write rows into the table the example app's migration creates.
MIGRATE = {"app_migrate_command": "alembic upgrade head"}
LOAD = ("--url https://localhost/ --cacert %s --post-every 4 --concurrency 2 --interval 0.03 "
        "--count 100000 --duration 600" % bench.ROOT_CA)


def background(host, name, command):
    """A bounded command as a transient unit on the host, its output to a file."""
    bench.sh(host, "rm -f /run/%s.stop /run/%s.json; systemctl reset-failed %s.service 2>/dev/null; "
                   "systemd-run --unit %s --property RuntimeMaxSec=900 --property StandardOutput=file:/run/%s.json "
                   "%s --stop-file /run/%s.stop" % (name, name, name, name, name, command, name))


def finish(host, name):
    bench.sh(host, "touch /run/%s.stop" % name)
    for _attempt in range(120):
        if bench.sh(host, "systemctl is-active %s.service" % name, check=False).strip() != "active":
            break
        time.sleep(0.5)
    return json.loads(bench.sh(host, "tail -1 /run/%s.json" % name))


def workers(host):
    """Workers of the serving slot now (a single uvicorn process counts as one)."""
    unit = bench.serving_unit(host)
    main = bench.sh(host, "systemctl show -p MainPID --value %s" % unit).strip()
    count = int(bench.sh(host, "pgrep -P %s -f multiprocessing.spawn | wc -l" % main, check=False).strip() or 0)
    return count or 1


def deploy(inventory_path, extra, playbook=None):
    argv = ["ansible-playbook", "-v", "-i", inventory_path, playbook or os.path.join(bench.PROJECT, "site.yml")]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(extra, handle)
    result = bench.run(argv + ["-e", "@" + handle.name], check=False, cwd=bench.PROJECT)
    os.unlink(handle.name)
    return result


def during(output):
    """(mode, serving workers, new workers) of the switch, from the deploy's -v output."""
    mode = ("stop first" if "stops first; new requests are held" in output
            else "shrink" if "serves with " in output and "of its workers while release" in output
            else "overlap")
    went = re.findall(r'"(?:blue|green) went from \d+ to (\d+) workers', output)
    started = re.findall(r'"(?:blue|green) started with (\d+) workers', output)
    return mode, (went[0] if went else "0" if mode == "stop first" else "all"), (started[0] if started else "-")


def event(host, inventory_path, name, extra, playbook=None):
    before = workers(host)
    background(host, "switch-load", "python3 /usr/local/bin/asgi_probe.py " + LOAD)
    background(host, "switch-memory", "python3 /usr/local/bin/asgi_memory.py example")
    started = time.monotonic()
    result = deploy(inventory_path, extra, playbook)
    took = time.monotonic() - started
    time.sleep(1)
    load, memory = finish(host, "switch-load"), finish(host, "switch-memory")
    mode, serving, new = during(result.stdout)
    waited = re.findall(r"requests (?:to \S+ were )?held for ([\d.]+) s", result.stdout)
    bench.log("%s: rc %d, %s, %d failed of %d %s, worst %.2f s, peak %.0f MiB"
              % (name, result.returncode, mode, load["failed"], load["sent"], load["errors"] or "", load["max_latency"],
                 memory["anon_mb"]))
    return {"event": name, "ok": result.returncode == 0, "seconds": round(took, 1), "mode": mode,
            "before": before, "during": "%s + %s" % (serving, new), "after": workers(host),
            "failed": load["failed"], "sent": load["sent"], "posts": load["sent_by_method"].get("POST", 0),
            "worst": load["max_latency"], "peak_mb": memory["anon_mb"], "waited": waited[0] if waited else ""}


def size_run(size_mb, tmp):
    sys.path.insert(0, os.path.join(bench.PROJECT, "molecule", "resources", "tests"))
    import asgi_testlib  # pylint: disable=import-outside-toplevel
    from uvicorn_workers import budget_workers, uvicorn_workers  # pylint: disable=import-outside-toplevel
    host = "asgi-switch-%d" % size_mb
    address = bench.start_host(host, memory_mb=size_mb)
    inventory_path = os.path.join(tmp, "inventory-%d.yml" % size_mb)
    bench.inventory(inventory_path, host, address)
    for path in (PROBE, SAMPLER):
        bench.run(["docker", "cp", path, "%s:/usr/local/bin/%s" % (host, os.path.basename(path))])
    heavy = asgi_testlib.heavy_app(tmp_dir(tmp, "heavy-%d" % size_mb))
    new = asgi_testlib.heavy_app(tmp_dir(tmp, "new-%d" % size_mb), write={"VERSION": "2\n"})
    broken = asgi_testlib.heavy_app(tmp_dir(tmp, "broken-%d" % size_mb), replace={"app/main.py": (
        'return {"status": "ok", "release": RELEASE}', 'raise RuntimeError("health check broken on purpose")')})
    first = deploy(inventory_path, dict(MIGRATE, app_src=heavy))
    if first.returncode != 0:
        raise SystemExit("first deploy on %d MiB failed:\n%s" % (size_mb, first.stdout[-3000:]))
    rows = [event(host, inventory_path, "restart", dict(MIGRATE, app_src=heavy, app_restart=True)),
            event(host, inventory_path, "new release", dict(MIGRATE, app_src=new)),
            event(host, inventory_path, "bad release", dict(MIGRATE, app_src=broken)),
            event(host, inventory_path, "rollback", dict(MIGRATE, app_src=new),
                  playbook=os.path.join(bench.PROJECT, "playbooks", "rollback.yml"))]
    cpus = float(bench.sh(host, "nproc").strip())
    sized = uvicorn_workers(size_mb, cpus=cpus, switch=True)
    budget = max(sized, budget_workers(size_mb)) * 128 + 2 * 64
    bench.remove_hosts([host])
    return {"size_mb": size_mb, "workers": sized, "budget_mb": budget, "rows": rows}


def tmp_dir(tmp, name):
    path = pathlib.Path(tmp) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def report(results):
    written = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = ["# The switch by host size", "",
             "Written by `benchmarks/switch.py` on %s. The example app with workers of about 110 MiB, default settings, "
             "one host over SSH; each event under GET and POST load through Caddy, the app's memory sampled every "
             "100 ms. *during*: the serving release's workers + the new one's while both run (*all*: the serving "
             "one kept them). Budget: the workers' budget and two supervisors." % written,
             "", "| host | event | deploy | switch | workers before / during / after | failed | worst | "
                 "peak app memory / budget | held |",
             "|---|---|---|---|---|---|---|---|---|"]
    for result in results:
        for row in result["rows"]:
            lines.append("| %d MiB (%d workers) | %s | %s, %.0f s | %s | %s / %s / %s | %d of %d (%d POST) | %.2f s | "
                         "%.0f / %d MiB | %s |" % (
                             result["size_mb"], result["workers"], row["event"],
                             "ok" if row["ok"] else "failed", row["seconds"], row["mode"], row["before"],
                             row["during"], row["after"], row["failed"], row["sent"], row["posts"], row["worst"],
                             row["peak_mb"], result["budget_mb"], (row["waited"] + " s") if row["waited"] else "-"))
    with open(RESULTS, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES_MB), help="host sizes in MiB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report([size_run(size, tmp) for size in args.sizes])


if __name__ == "__main__":
    main()
