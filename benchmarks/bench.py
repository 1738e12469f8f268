"""asgi.deploy benchmarks: what the deployment gives and what it costs.

    make bench            (or: .venv/bin/python benchmarks/bench.py)

Runs on this machine against the project's own systemd containers only, and
writes benchmarks/RESULTS.md and benchmarks/*.png. Every figure is the median
of --runs runs, with min and max; ratios are taken within one run of this
script, because the machines are shared and noisy.

1. Serving: the example app's /pid straight to uvicorn's unix socket, through
   Caddy over HTTPS, and both with one worker; the CPU each part spent per
   request, and the best ratios those costs allow on this machine's CPUs.
2. Restart under load: `systemctl restart` during a steady load through
   Caddy, with the socket unit (the design) and with `uvicorn --uds`.
3. Deploy cost: site.yml on a fresh host, re-run, new release; 1 and 4 hosts,
   all sharing this machine's CPUs and each limited to --host-cpus.
4. Memory: worker RSS after the load vs the filter's budget.
"""
import argparse
import datetime
import inspect
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
IMAGE = "asgi-deploy/debian12:latest"
NETWORK = "asgi-bench"
# A fresh deploy serves from slot blue; SOCKET is the stable path, a link to its socket.
APP, SLOT, UNIT, SOCKET = "example", "example@blue", "example@blue.service", "/run/example/example.sock"
ROOT_CA = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt"
CONTAINER_MEMORY_MB = 1024
WORKDIR = os.path.join(PROJECT, ".tmp", "bench")
# Its own HOME: the role's archive cache on the controller (~/.cache/asgi-deploy)
# is then not shared with a test run on the same machine.
ENV = dict(os.environ, PATH=os.path.join(PROJECT, ".venv", "bin") + ":" + os.environ["PATH"],
           HOME=os.path.join(WORKDIR, "home"),
           ANSIBLE_COLLECTIONS_PATH=os.path.join(PROJECT, ".tmp", "collections"),
           ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks", ANSIBLE_FORCE_COLOR="false",
           ANSIBLE_PIPELINING="true", PROFILE_TASKS_TASK_OUTPUT_LIMIT="8")
# The worker filter and the verifiers' helpers, imported where they are used.
sys.path[:0] = [os.path.join(PROJECT, "plugins", "filter"), os.path.join(PROJECT, "molecule", "resources", "tests")]


def log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def run(argv, check=True, timeout=1800, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=ENV, check=False, **kwargs)
    if check and result.returncode != 0:
        raise SystemExit("failed: %s\n%s%s" % (shlex.join(argv), result.stdout[-3000:], result.stderr[-3000:]))
    return result


def sh(container, command, check=True, timeout=600):
    return run(["docker", "exec", container, "sh", "-c", command], check=check, timeout=timeout).stdout


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fmt(stat, digits=1):
    return "%.*f (%.*f–%.*f)" % (digits, stat["median"], digits, stat["min"], digits, stat["max"])


# --- containers ----------------------------------------------------------------

def start_hosts(names, cpus=None):
    """Fresh systemd containers; with cpus, each may use that many CPUs at most."""
    remove_hosts(names)
    run(["docker", "network", "create", NETWORK], check=False)
    for name in names:
        limit = ["--cpus", str(cpus)] if cpus else []
        run(["docker", "run", "-d", "--name", name, "--hostname", name, "--network", NETWORK] + limit
            + ["--memory", "%dm" % CONTAINER_MEMORY_MB, "--cap-add", "SYS_ADMIN",
               "--security-opt", "seccomp=unconfined", "--cgroupns", "host",
               "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
               "--stop-signal", "SIGRTMIN+3", IMAGE, "/lib/systemd/systemd"])
        # PyPI is reached through this machine's TLS-intercepting proxy.
        run(["docker", "cp", "/etc/ssl/certs/ca-certificates.crt",
             name + ":/usr/local/share/ca-certificates/controller-bundle.crt"])
    for name in names:
        # Until systemd has booted: its bus is not up at first.
        for _attempt in range(60):
            state = sh(name, "systemctl is-system-running --wait 2>/dev/null", check=False).strip()
            if state in ("running", "degraded"):
                break
            time.sleep(1)
        sh(name, "update-ca-certificates >/dev/null 2>&1")


def remove_hosts(names):
    for name in names:
        run(["docker", "rm", "-f", name], check=False)


def inventory(path, apps):
    edge = apps[0]
    tcp = len(apps) > 1
    lines = ["all:", "  vars:", "    ansible_connection: community.docker.docker",
             "    ansible_python_interpreter: auto_silent",
             "    app_health_path: /health",
             "    app_src: %s/examples/app" % PROJECT,
             "    caddy_sites: [{domains: [localhost], tls: internal}]"]
    if tcp:
        # Remote app hosts are reached over TCP by the edge.
        lines += ["    app_tcp_port: 8000"]
    lines += ["  children:", "    app:", "      hosts:"] + ["        %s:" % name for name in apps]
    lines += ["    edge:", "      hosts:", "        %s:" % edge]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def deploy(inventory_path, extra=None):
    argv = ["ansible-playbook", "-i", inventory_path, os.path.join(PROJECT, "site.yml")]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(extra or {}, handle)
    start = time.monotonic()
    result = run(argv + ["-e", "@" + handle.name], check=False, cwd=PROJECT)
    took = time.monotonic() - start
    os.unlink(handle.name)
    if result.returncode != 0:
        raise SystemExit("deploy failed:\n" + result.stdout[-4000:])
    changed = sum(int(n) for n in re.findall(r"changed=(\d+)", result.stdout))
    slow = re.findall(r"^(.+?) -{2,} (\d+\.\d+)s$", result.stdout, re.M)
    return took, changed, [(name.strip(), float(sec)) for name, sec in slow], play_times(result.stdout)


def play_times(output):
    """Seconds each play took, from the running clock profile_tasks prints before every task and at the end."""
    starts, clock, play = [], 0.0, None
    for line in output.splitlines():
        header = re.match(r"PLAY \[(.+)\] \*+\s*$", line)
        if header:
            play = header.group(1)
            continue
        found = re.search(r"\) +(\d+):(\d+):(\d+\.\d+) \*+\s*$", line)
        if found:
            hours, minutes, seconds = found.groups()
            clock = 3600 * int(hours) + 60 * int(minutes) + float(seconds)
            if play:
                starts.append((play, clock))
                play = None
    ends = [start for _play, start in starts[1:]] + [clock]
    return [(name, end - start) for (name, start), end in zip(starts, ends)]


# --- 3. deploy cost ----------------------------------------------------------------

def deploy_cost(runs, workdir, tmp, host_cpus):
    """Deploy timings per layout (shared CPUs, or host_cpus each) and host count."""
    results, slowest, plays = {}, {}, {}
    new_release = os.path.join(tmp, "app-new")
    run(["cp", "-r", os.path.join(PROJECT, "examples", "app"), new_release])
    for layout, cpus in (("shared", None), ("sized", host_cpus)):
        for count in (1, 4):
            names = ["asgi-bench-%d" % i for i in range(1, count + 1)]
            path = os.path.join(workdir, "inventory-%d.yml" % count)
            inventory(path, names)
            columns = {"first deploy": [], "no-op re-run": [], "new release": []}
            for attempt in range(runs):
                start_hosts(names, cpus)
                log("deploy cost, %s, %d host(s), run %d" % (layout, count, attempt + 1))
                for column in columns:
                    extra = None
                    if column == "new release":
                        with open(os.path.join(new_release, "VERSION"), "w") as handle:
                            handle.write("bench-%s-%d-%d-%f\n" % (layout, count, attempt, time.time()))
                        extra = {"app_src": new_release}
                    took, changed, slow, by_play = deploy(path, extra)
                    if column == "no-op re-run" and changed:
                        raise SystemExit("the re-run changed %d things: not idempotent" % changed)
                    columns[column].append(took)
                    key = "%s, %d host%s, %s" % (layout, count, "s" if count > 1 else "", column)
                    slowest.setdefault(key, slow)
                    plays.setdefault(key, by_play)
            results.setdefault(layout, {})[str(count)] = {column: stats(values) for column, values in columns.items()}
            remove_hosts(names)
    return results, slowest, plays


# --- 1. serving ----------------------------------------------------------------------

def load(host, target, seconds, connections, extra=""):
    out = sh(host, "python3 /usr/local/bin/asgi_load.py %s --duration %d --connections %d %s"
             % (target, seconds, connections, extra), timeout=seconds + 120)
    return json.loads(out.strip().splitlines()[-1])


# CPU ticks so far of the app's processes (main and workers), of Caddy, and of
# journald, which receives Caddy's access log.
CPU_TICKS = (
    "ticks() { for p in \"$@\"; do cat /proc/$p/stat; done 2>/dev/null | awk '{s+=$14+$15} END {print s+0}'; }; "
    "m=$(systemctl show -p MainPID --value %s); "
    "echo $(ticks $m $(ps -o pid= --ppid $m)) $(ticks $(pgrep -x caddy)) $(ticks $(pgrep -x systemd-journal))" % UNIT)
PARTS = ("client", "caddy", "journal", "app")


def machine_busy():
    """Busy and total CPU ticks of this machine (the containers share its kernel)."""
    with open("/proc/stat") as handle:
        ticks = [int(n) for n in handle.readline().split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def measured_load(host, target, seconds, connections):
    """A load run, with the CPU each part spent per request: client, Caddy, journald, app."""
    tick = os.sysconf("SC_CLK_TCK")
    before = [int(n) for n in sh(host, CPU_TICKS).split()]
    busy_before, total_before = machine_busy()
    sample = load(host, target, seconds, connections)
    busy_after, total_after = machine_busy()
    after = [int(n) for n in sh(host, CPU_TICKS).split()]
    per_request = 1000.0 / max(sample["requests"], 1)
    used = {part: (end - start) / tick for part, start, end in zip(("app", "caddy", "journal"), before, after)}
    used["client"] = sample["cpu_s"]
    sample["cpu_ms"] = {part: used[part] * per_request for part in PARTS}
    sample["busy"] = (busy_after - busy_before) / max(total_after - total_before, 1)
    return sample


def serving(host, inventory_path, runs, seconds, connections):
    direct = "--unix %s --path /pid" % SOCKET
    caddy = "--url https://localhost/pid --cacert %s" % ROOT_CA
    results = {}
    for label, workers in (("filter", None), ("1 worker", 1)):
        if workers:
            deploy(inventory_path, {"app_workers": workers})
        # With one worker uvicorn serves from its main process: no children.
        count = len(worker_pids(host)) or 1
        for _warm in range(2):
            load(host, direct, 3, connections)
            load(host, caddy, 3, connections)
        samples = {"direct": [], "caddy": []}
        for attempt in range(runs):
            # Alternate, so drift on a shared machine hits both alike.
            samples["direct"].append(measured_load(host, direct, seconds, connections))
            samples["caddy"].append(measured_load(host, caddy, seconds, connections))
            log("serving %s (%d workers), run %d: direct %.0f req/s, caddy %.0f req/s" % (
                label, count, attempt + 1, samples["direct"][-1]["rps"], samples["caddy"][-1]["rps"]))
        results[label] = {"workers": count}
        for path, runs_ in samples.items():
            results[label][path] = {key: stats([r[key] for r in runs_]) for key in ("rps", "p50_ms", "p99_ms")}
            results[label][path]["failed"] = sum(r["failed"] for r in runs_)
            results[label][path]["cpu_ms"] = {part: stats([r["cpu_ms"][part] for r in runs_]) for part in PARTS}
            results[label][path]["busy"] = stats([r["busy"] for r in runs_])
        results[label]["ratio"] = stats([c["rps"] / d["rps"] for c, d in zip(samples["caddy"], samples["direct"])])
    deploy(inventory_path)
    return results


def worker_pids(host):
    """uvicorn's workers, found as the Molecule verifiers find them."""
    import testinfra  # pylint: disable=import-outside-toplevel
    from asgi_testlib import worker_pids as pids_of  # pylint: disable=import-outside-toplevel
    return pids_of(testinfra.get_host("docker://" + host), UNIT)


# --- 2. restart under load -------------------------------------------------------------

UDS_UNIT = "example-uds.service"


def use_uds_unit(host):
    """The same service without its socket unit: uvicorn binds the socket itself."""
    sh(host, " && ".join([
        "sed -e '/^Requires=%s.socket/d' -e 's/^After=%s.socket /After=/'"
        " -e 's|--fd 3|--uds %s|' -e 's/^\\[Service\\]$/[Service]\\nRuntimeDirectory=example\\n"
        "RuntimeDirectoryMode=0755/' /etc/systemd/system/%s > /etc/systemd/system/%s"
        % (SLOT, SLOT, SOCKET, UNIT, UDS_UNIT),
        "systemctl daemon-reload", "systemctl stop %s.socket %s" % (SLOT, UNIT), "rm -f %s" % SOCKET,
        "systemctl start %s" % UDS_UNIT]))
    wait_healthy(host)


def use_socket_unit(host):
    sh(host, "systemctl stop %s; rm -f /etc/systemd/system/%s %s; systemctl daemon-reload; "
             "systemctl start %s.socket %s; ln -s /run/example/blue.sock %s"
             % (UDS_UNIT, UDS_UNIT, SOCKET, SLOT, UNIT, SOCKET))
    wait_healthy(host)


def wait_healthy(host):
    for _attempt in range(120):
        if sh(host, "python3 /usr/local/bin/asgi_load.py --unix %s --path /health --duration 1 "
                    "--connections 1" % SOCKET, check=False).count('"failed": 0'):
            return
        time.sleep(0.5)
    raise SystemExit("the app did not become healthy")


def restart_under_load(host, runs, connections):
    caddy = "--url https://localhost/pid --cacert %s" % ROOT_CA
    results, timelines = {}, {}
    for label, unit in (("socket unit (design)", UNIT), ("uvicorn --uds", UDS_UNIT)):
        if unit == UDS_UNIT:
            use_uds_unit(host)
        samples = []
        for attempt in range(runs):
            sample = load(host, caddy, 12, connections,
                          "--during 'systemctl restart %s' --during-delay 4 --timeline" % unit)
            samples.append(sample)
            log("restart under load, %s, run %d: %d failed of %d, worst %.0f ms" % (
                label, attempt + 1, sample["failed"], sample["requests"], sample["max_ms"]))
        timelines[label] = samples[0].pop("timeline")
        for sample in samples[1:]:
            sample.pop("timeline")
        results[label] = {"failed": stats([s["failed"] for s in samples]),
                          "requests": stats([s["requests"] for s in samples]),
                          "max_ms": stats([s["max_ms"] for s in samples]),
                          "errors": samples[-1]["errors"]}
        if unit == UDS_UNIT:
            use_socket_unit(host)
    return results, timelines


# --- 4. memory -----------------------------------------------------------------------------

def memory(host, connections):
    from uvicorn_workers import uvicorn_workers  # pylint: disable=import-outside-toplevel
    # Warm: every worker has served through both paths.
    load(host, "--unix %s --path /pid" % SOCKET, 10, connections)
    load(host, "--url https://localhost/pid --cacert %s" % ROOT_CA, 10, connections)
    main = sh(host, "systemctl show -p MainPID --value %s" % UNIT).strip()
    workers = worker_pids(host)
    rss = [int(sh(host, "awk '/VmRSS/ {print $2}' /proc/%d/status" % pid)) / 1024 for pid in workers]
    main_rss = int(sh(host, "awk '/VmRSS/ {print $2}' /proc/%s/status" % main)) / 1024
    caddy_rss = int(sh(host, "ps -o rss= -C caddy | awk '{s+=$1} END {print s}'")) / 1024
    cpus = int(sh(host, "nproc"))
    expected = uvicorn_workers(CONTAINER_MEMORY_MB, cpus=cpus)
    # The budget the role sized the workers with: the filter's own defaults.
    plan = {name: parameter.default for name, parameter in inspect.signature(uvicorn_workers).parameters.items()
            if name in ("per_worker_mb", "reserve_mb", "utilization")}
    total = sum(rss) + main_rss + caddy_rss
    return dict(plan, workers=len(workers), filter_workers=expected, worker_rss=stats(rss),
                main_rss=main_rss, caddy_rss=caddy_rss, total=total, memory=CONTAINER_MEMORY_MB,
                target=CONTAINER_MEMORY_MB * plan["utilization"],
                budget=expected * plan["per_worker_mb"] + plan["reserve_mb"], cpus=cpus)


# --- plots and report --------------------------------------------------------------------

def plot_restart(timelines, path):
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    except ImportError:
        return False
    fig, axes = plt.subplots(len(timelines), 1, figsize=(8, 5), sharex=True)
    for axis, (label, timeline) in zip(axes, timelines.items()):
        ok = [(t, 1000 * lat) for t, lat, good in timeline if good]
        bad = [(t, 1000 * lat) for t, lat, good in timeline if not good]
        axis.scatter([t for t, _lat in ok], [lat for _t, lat in ok], s=2, label="200")
        axis.scatter([t for t, _lat in bad], [lat for _t, lat in bad], s=8, color="red", label="failed")
        axis.axvline(4, color="grey", linestyle="--", linewidth=1)
        axis.set_yscale("log")
        axis.set_ylabel("latency, ms")
        axis.set_title("%s: %d failed" % (label, len(bad)))
        axis.legend(loc="upper right")
    axes[-1].set_xlabel("seconds (restart at 4 s)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def versions(host):
    return {
        "machine": "%s CPUs, %d MiB RAM, %s" % (
            os.cpu_count(), os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 20),
            platform.platform()),
        "containers": "%d MiB memory each, all %s CPUs shared" % (CONTAINER_MEMORY_MB, os.cpu_count()),
        "ansible-core": run(["ansible", "--version"]).stdout.split("\n")[0],
        "docker": run(["docker", "--version"]).stdout.strip(),
        "target": sh(host, ". /etc/os-release; echo $PRETTY_NAME").strip(),
        "caddy": sh(host, "caddy version").strip().split()[0],
        "uvicorn": sh(host, "/opt/example/current/venv/bin/python -m uvicorn --version").strip(),
        "python (target)": sh(host, "python3 --version").strip(),
    }


def ceilings(serving_results, cpus):
    """The best ratios the measured CPU per request allows on `cpus` CPUs, with and without the client's share."""
    budget = 1000.0 * cpus

    def cost(label, path, parts):
        return sum(serving_results[label][path]["cpu_ms"][part]["median"] for part in parts)

    bounds = {}
    for where, parts in (("here", PARTS), ("elsewhere", PARTS[1:])):
        # One uvicorn process cannot use more than one CPU, whatever is free.
        one_worker = min(1000.0 / cost("1 worker", "caddy", ["app"]), budget / cost("1 worker", "caddy", parts))
        bounds[where] = {"ratio": cost("filter", "direct", parts) / cost("filter", "caddy", parts),
                         "scale": budget / cost("filter", "caddy", parts) / one_worker}
    return bounds


def report(data, path):
    out = ["# Benchmark results", "",
           "Written by `make bench` (benchmarks/bench.py) on %s. Each figure: median (min–max) of %d runs."
           % (data["date"], data["runs"]), ""]
    out += ["| | |", "|---|---|"] + ["| %s | %s |" % item for item in data["versions"].items()] + [""]

    s = data["serving"]
    out += ["## 1. Serving through the stack", "",
            "`GET /pid` of the example app, %d keep-alive connections for %d s, from a client on the same host "
            "(benchmarks/load.py, the same client for every row). *direct*: uvicorn's unix socket; "
            "*caddy*: https://localhost/ through Caddy to that socket." % (data["connections"], data["seconds"]), "",
            "| workers | path | req/s | p50 ms | p99 ms | failed |", "|---|---|---|---|---|---|"]
    for label in ("filter", "1 worker"):
        for path_ in ("direct", "caddy"):
            row = s[label][path_]
            out.append("| %d (%s) | %s | %s | %s | %s | %d |" % (
                s[label]["workers"], label, path_, fmt(row["rps"], 0), fmt(row["p50_ms"], 2), fmt(row["p99_ms"], 2),
                row["failed"]))
    scale = {path_: s["filter"][path_]["rps"]["median"] / s["1 worker"][path_]["rps"]["median"]
             for path_ in ("direct", "caddy")}
    out += ["", "| goal | measured | met |", "|---|---|---|",
            "| caddy / direct ≥ 0.75 at the filter's worker count | %s | %s |" % (
                fmt(s["filter"]["ratio"], 2), "yes" if s["filter"]["ratio"]["median"] >= 0.75 else "**no**"),
            "| filter-sized workers ≥ 1.7× one worker (through Caddy) | %.2f× (direct: %.2f×) | %s |" % (
                scale["caddy"], scale["direct"], "yes" if scale["caddy"] >= 1.7 else "**no**"), ""]
    out += ["Where the CPU went: milliseconds of CPU per request of each part (from /proc, around each run), and how "
            "busy the machine's %d CPUs were." % data["cpus"], "",
            "| workers | path | client | Caddy | journald (access log) | app | machine busy |",
            "|---|---|---|---|---|---|---|"]
    for label in ("filter", "1 worker"):
        for path_ in ("direct", "caddy"):
            cpu = s[label][path_]["cpu_ms"]
            out.append("| %d | %s | %s | %.0f %% |" % (
                s[label]["workers"], path_, " | ".join(fmt(cpu[part], 3) for part in PARTS),
                100 * s[label][path_]["busy"]["median"]))
    bound = ceilings(s, data["cpus"])
    out += ["", "What those costs allow when the CPUs are the limit (%d CPUs; one uvicorn process uses at most one):"
            % data["cpus"], "",
            "| ratio | goal | bound, client on this host | bound, client elsewhere |", "|---|---|---|---|",
            "| caddy / direct | ≥ 0.75 | %.2f | %.2f |" % (bound["here"]["ratio"], bound["elsewhere"]["ratio"]),
            "| filter-sized / 1 worker, through Caddy | ≥ 1.7 | %.2f× | %.2f× |" % (
                bound["here"]["scale"], bound["elsewhere"]["scale"]), ""]

    r = data["restart"]
    out += ["## 2. Restart under load", "",
            "`systemctl restart` 4 s into 12 s of load through Caddy (%d connections). The socket unit is the "
            "design; *uvicorn --uds* is the same service with no socket unit, uvicorn binding the socket itself."
            % data["connections"], "",
            "| unit | requests | failed | worst latency ms | errors (last run) |", "|---|---|---|---|---|"]
    for label, row in r.items():
        out.append("| %s | %s | %s | %s | %s |" % (label, fmt(row["requests"], 0), fmt(row["failed"], 0),
                                                   fmt(row["max_ms"], 0), row["errors"] or "none"))
    if data.get("restart_plot"):
        out += ["", "![latency during a restart](restart.png)"]
    out += [""]

    c = data["deploy"]
    columns = ("first deploy", "no-op re-run", "new release")
    layouts = {"shared": "every container may use all %d CPUs, so four hosts compete for them" % data["cpus"],
               "sized": "each container limited to %.1f CPU, so four hosts and the controller fit in this machine, "
                        "as four real hosts would each have their own" % data["host_cpus"]}
    out += ["## 3. Deploy cost", "",
            "Wall time of `ansible-playbook site.yml` (seconds) against fresh containers; 4 hosts: four app hosts, "
            "the first also the edge, rolling one host at a time (`asgi_serial` 1). Two layouts: *shared*, %s; "
            "*sized*, %s." % (layouts["shared"], layouts["sized"]), "",
            "| layout | hosts | first deploy | no-op re-run | new release |", "|---|---|---|---|---|"]
    for layout in layouts:
        for count in ("1", "4"):
            out.append("| %s | %s | %s |" % (layout, count, " | ".join(fmt(c[layout][count][k]) for k in columns)))
        out.append("| %s | 4 / 1 | %s |" % (layout, " | ".join(
            "%.2f×" % (c[layout]["4"][k]["median"] / c[layout]["1"][k]["median"]) for k in columns)))
    out += ["", "| goal | measured | met |", "|---|---|---|"]
    for layout in layouts:
        noop = c[layout]["1"]["no-op re-run"]["median"]
        out.append("| no-op re-run ≤ 20 s on one host (%s) | %.1f s | %s |" % (
            layout, noop, "yes" if noop <= 20 else "**no**"))
    for layout in layouts:
        for k in columns:
            ratio = c[layout]["4"][k]["median"] / c[layout]["1"][k]["median"]
            out.append("| 4 hosts ≤ 1.5× one host, %s (%s) | %.2f× | %s |" % (
                k, layout, ratio, "yes" if ratio <= 1.5 else "**no**"))
    for layout in layouts:
        keys = ["%s, %s, %s" % (layout, hosts, k) for k in columns for hosts in ("1 host", "4 hosts")]
        out += ["", "Seconds per play, %s (first run of each): the switch runs one host at a time, the other plays "
                "all hosts at once." % layout, "",
                "| play | %s |" % " | ".join(key.split(", ", 1)[1] for key in keys), "|---|%s" % ("---|" * len(keys))]
        names = []
        for key in keys:
            names += [name for name, _sec in data["plays"][key] if name not in names]
        for name in names:
            out.append("| %s | %s |" % (name, " | ".join(
                "%.1f" % sum(sec for play, sec in data["plays"][key] if play == name) for key in keys)))
    out += ["", "Slowest tasks (profile_tasks, first run of each):", ""]
    for key, tasks in data["slowest"].items():
        out.append("- %s: %s" % (key, "; ".join("%s %.1fs" % (name, sec) for name, sec in tasks[:5])))
    out += [""]

    m = data["memory"]
    out += ["## 4. Memory sizing truth", "",
            "After the serving runs, on the 1-host deployment (container limit %d MiB, %d CPUs)." % (
                m["memory"], m["cpus"]), "",
            "| | MiB |", "|---|---|",
            "| worker RSS, %d workers | %s |" % (m["workers"], fmt(m["worker_rss"])),
            "| filter's budget per worker (`per_worker_mb`) | %d |" % m["per_worker_mb"],
            "| uvicorn main process | %.1f |" % m["main_rss"],
            "| Caddy | %.1f |" % m["caddy_rss"],
            "| total: workers + main + Caddy | %.1f (%.0f %% of memory) |" % (m["total"], 100 * m["total"] / m["memory"]),
            "| filter's plan: reserve %d + workers × %d | %d |" % (m["reserve_mb"], m["per_worker_mb"], m["budget"]),
            "| memory × utilization (%.2f) | %.0f |" % (m["utilization"], m["target"]), "",
            "| goal | measured | met |", "|---|---|---|",
            "| total never above memory × utilization | %.0f ≤ %.0f | %s |" % (
                m["total"], m["target"], "yes" if m["total"] <= m["target"] else "**no**"),
            "| worker RSS within its budget | %.1f ≤ %d | %s |" % (
                m["worker_rss"]["max"], m["per_worker_mb"],
                "yes" if m["worker_rss"]["max"] <= m["per_worker_mb"] else "**no**"), ""]
    with open(path, "w") as handle:
        handle.write("\n".join(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median, min, max)")
    parser.add_argument("--seconds", type=int, default=10, help="seconds of load per serving run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--host-cpus", type=float, default=0.4,
                        help="CPUs of each container in the sized deploy layout: four of them and the controller "
                             "must fit in this machine")
    parser.add_argument("--keep", action="store_true", help="leave the 1-host container running")
    args = parser.parse_args()
    if args.runs < 1 or not 1 <= args.seconds <= 60:
        parser.error("--runs must be at least 1 and --seconds 1..60")
    if not 0.1 <= args.host_cpus * 4 <= os.cpu_count():
        parser.error("--host-cpus times 4 hosts must be between 0.1 and this machine's %d CPUs" % os.cpu_count())

    workdir = WORKDIR
    os.makedirs(ENV["HOME"], exist_ok=True)
    data = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpus": os.cpu_count(),
            "runs": args.runs, "seconds": args.seconds, "connections": args.connections}
    with tempfile.TemporaryDirectory() as tmp:
        data["deploy"], data["slowest"], data["plays"] = deploy_cost(args.runs, workdir, tmp, args.host_cpus)
    data["host_cpus"] = args.host_cpus

    host = "asgi-bench-1"
    path_1 = os.path.join(workdir, "inventory-1.yml")
    start_hosts([host])
    deploy(path_1)
    run(["docker", "cp", os.path.join(HERE, "load.py"), host + ":/usr/local/bin/asgi_load.py"])
    data["versions"] = versions(host)
    data["serving"] = serving(host, path_1, args.runs, args.seconds, args.connections)
    data["memory"] = memory(host, args.connections)
    data["restart"], timelines = restart_under_load(host, args.runs, args.connections)
    data["restart_plot"] = plot_restart(timelines, os.path.join(HERE, "restart.png"))
    if not args.keep:
        remove_hosts([host])
        run(["docker", "network", "rm", NETWORK], check=False)

    with open(os.path.join(workdir, "results.json"), "w") as handle:
        json.dump(data, handle, indent=1)
    report(data, os.path.join(HERE, "RESULTS.md"))
    log("wrote benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
