"""asgi.deploy benchmarks: what the deployment gives and what it costs.

    make bench            (or: .venv/bin/python benchmarks/bench.py)

Runs on this machine against the project's own systemd containers only, and
writes benchmarks/RESULTS.md and benchmarks/*.png. Every figure is the median
of --runs runs, with min and max; ratios are taken within one run of this
script, because the machines are shared and noisy.

1. Serving: h2load (C, epoll) saturates the example app's /pid through Caddy
   over HTTPS and straight on uvicorn's socket, and its CPU-bound /cpu on the
   socket, with 1, 2 and the filter's workers; beside them, in the same run,
   nginx in front of gunicorn with uvicorn workers and `fastapi run`. The CPU
   each part spent per request gives each row's limit, and req/s over that
   limit its efficiency. The two stacks also on /items, a query and a few KiB
   of JSON.
2. Restart under load: `systemctl restart` during a steady load through
   Caddy, with the socket unit (the design) and with `uvicorn --uds`.
3. Deploy cost: site.yml over SSH with pipelining on a fresh host set as
   inventories/single-vm, re-run, new release (with its migration); seconds
   per play, the slowest tasks, and the round trips; the same three on a
   fleet (an edge, two app hosts, a database host), its runs in turn with
   one host's.
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
HOST = "asgi-bench-1"
# Section 3's fleet, the shape of inventories/fleet and the cluster scenario:
# name -> memory in MiB, in the order edge, app1, app2, db.
FLEET_MEMORY_MB = {"asgi-bench-edge": 512, "asgi-bench-app1": 1024, "asgi-bench-app2": 1024, "asgi-bench-db": 512}
FLEET = tuple(FLEET_MEMORY_MB)
APP = "example"
# The stable path: a link to the serving slot's socket.
SOCKET = "/run/example/example.sock"
ROOT_CA = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt"
CONTAINER_MEMORY_MB = 1024
WORKDIR = os.path.join(PROJECT, ".tmp", "bench")
SSH_KEY = os.path.join(WORKDIR, "ssh", "id_ed25519")
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


def run(argv, check=True, timeout=1800, env=None, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env or ENV, check=False, **kwargs)
    if check and result.returncode != 0:
        raise SystemExit("failed: %s\n%s%s" % (shlex.join(argv), result.stdout[-3000:], result.stderr[-3000:]))
    return result


def sh(container, command, check=True, timeout=600):
    return run(["docker", "exec", container, "sh", "-c", command], check=check, timeout=timeout).stdout


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fmt(stat, digits=1):
    return "%.*f (%.*f–%.*f)" % (digits, stat["median"], digits, stat["min"], digits, stat["max"])


def apt_install(host, packages):
    # policy-rc.d: a service does not start on install (Debian's nginx would
    # claim port 80, which Caddy holds); the bench starts what it needs.
    sh(host, "printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && "
             "(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq %s >/dev/null; "
             "rc=$?; rm -f /usr/sbin/policy-rc.d; exit $rc" % " ".join(packages))


# --- containers ----------------------------------------------------------------

def start_host(name, memory_mb=CONTAINER_MEMORY_MB):
    """A fresh systemd container that Ansible reaches over SSH, as a real host; returns its address."""
    remove_hosts([name])
    run(["docker", "network", "create", NETWORK], check=False)
    run(["docker", "run", "-d", "--name", name, "--hostname", name, "--network", NETWORK,
         "--memory", "%dm" % memory_mb, "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
         "--security-opt", "seccomp=unconfined", "--cgroupns", "host",
         "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
         "--stop-signal", "SIGRTMIN+3", IMAGE, "/lib/systemd/systemd"])
    # PyPI is reached through this machine's TLS-intercepting proxy.
    run(["docker", "cp", "/etc/ssl/certs/ca-certificates.crt",
         name + ":/usr/local/share/ca-certificates/controller-bundle.crt"])
    # Until systemd has booted: its bus is not up at first.
    for _attempt in range(60):
        if sh(name, "systemctl is-system-running --wait 2>/dev/null", check=False).strip() in ("running", "degraded"):
            break
        time.sleep(1)
    sh(name, "update-ca-certificates >/dev/null 2>&1")
    if not os.path.exists(SSH_KEY):
        os.makedirs(os.path.dirname(SSH_KEY), exist_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", SSH_KEY])
    apt_install(name, ["openssh-server"])
    sh(name, "install -d -m 0700 /root/.ssh")
    run(["docker", "cp", SSH_KEY + ".pub", name + ":/root/.ssh/authorized_keys"])
    sh(name, "chown root: /root/.ssh/authorized_keys && chmod 0600 /root/.ssh/authorized_keys && "
             "systemctl enable --now ssh >/dev/null 2>&1")
    return run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                name]).stdout.strip()


def remove_hosts(names):
    for name in names:
        run(["docker", "rm", "-f", name], check=False)


def base_vars():
    """What every bench inventory says: root over SSH with the bench's key, the example app, Caddy's own CA."""
    return {"ansible_user": "root", "ansible_ssh_private_key_file": SSH_KEY,
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
            "ansible_python_interpreter": "auto_silent", "app_health_path": "/health",
            "app_src": "%s/examples/app" % PROJECT, "caddy_sites": [{"domains": ["localhost"], "tls": "internal"}]}


def write_inventory(path, groups, variables):
    """groups: group -> {host: address}; JSON, which Ansible's YAML inventory reads."""
    children = {group: {"hosts": {name: {"ansible_host": address} for name, address in hosts.items()}}
                for group, hosts in groups.items()}
    with open(path, "w") as handle:
        json.dump({"all": {"vars": variables, "children": children}}, handle, indent=1)


def inventory(path, name, address):
    """One host that is the edge and the app host (inventories/single-vm): SQLite for the data, which a new release
    snapshots and migrates (alembic)."""
    variables = dict(base_vars(), app_migrate_command="alembic upgrade head")
    write_inventory(path, {"app": {name: address}, "edge": {name: address}}, variables)


def fleet_inventory(path, addresses):
    """The example fleet (inventories/fleet): the edge, two app hosts reached over TCP, PostgreSQL on its own host."""
    edge, app1, app2, db = FLEET
    password = "bench-password"
    variables = dict(base_vars(), postgresql_password=password, app_tcp_port=8000,
                     app_tcp_address="{{ ansible_host }}", app_forwarded_allow_ips=addresses[edge],
                     app_migrate_command="alembic upgrade head", caddy_health_uri="/health",
                     app_secret_env={"DATABASE_URL": "postgresql+psycopg://app:%s@%s/app" % (password, addresses[db])})
    write_inventory(path, {"edge": {edge: addresses[edge]}, "app": {app1: addresses[app1], app2: addresses[app2]},
                           "db": {db: addresses[db]}}, variables)


def deploy(inventory_path, extra=None, playbook=None, env=None):
    argv = ["ansible-playbook", "-i", inventory_path, playbook or os.path.join(PROJECT, "site.yml")]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(extra or {}, handle)
    start = time.monotonic()
    result = run(argv + ["-e", "@" + handle.name], check=False, cwd=PROJECT, env=env)
    took = time.monotonic() - start
    os.unlink(handle.name)
    if result.returncode != 0:
        raise SystemExit("deploy failed:\n" + result.stdout[-4000:])
    recap = {key: sum(int(n) for n in re.findall(r"\b%s=(\d+)" % key, result.stdout))
             for key in ("ok", "changed", "skipped")}
    slow = re.findall(r"^(.+?) -{2,} (\d+\.\d+)s$", result.stdout, re.M)
    return {"seconds": took, "recap": recap, "slowest": [(name.strip(), float(sec)) for name, sec in slow],
            "plays": play_times(result.stdout)}


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


def serving_unit(host):
    """The slot unit that serves now: the stable socket links to its socket."""
    slot = os.path.basename(sh(host, "readlink %s" % SOCKET).strip())[:-len(".sock")]
    return "%s@%s.service" % (APP, slot)


# --- 3. deploy cost ----------------------------------------------------------------

ROUND_TRIPS = 20


def round_trip(inventory_path, tmp, env=None):
    """Seconds of one task that runs a module on the host: the floor of any task over this SSH connection."""
    path = os.path.join(tmp, "round-trips.yml")
    with open(path, "w") as handle:
        handle.write("- name: Round trips\n  hosts: app\n  gather_facts: false\n  tasks:\n" + "".join(
            "    - name: Round trip %d\n      ansible.builtin.command: /bin/true\n      changed_when: false\n" % n
            for n in range(ROUND_TRIPS)))
    samples = [deploy(inventory_path, playbook=path, env=env)["seconds"] for _attempt in range(2)]
    # Less the playbook's start-up: the same playbook with one task.
    with open(path, "w") as handle:
        handle.write("- name: Round trips\n  hosts: app\n  gather_facts: false\n  tasks:\n"
                     "    - name: Round trip\n      ansible.builtin.command: /bin/true\n      changed_when: false\n")
    base = min(deploy(inventory_path, playbook=path, env=env)["seconds"] for _attempt in range(2))
    return (min(samples) - base) / (ROUND_TRIPS - 1), base


def deploy_attempt(attempt, workdir, tmp, env=None, packages=(), fleet=False):
    """One attempt over SSH on fresh hosts, one host or the fleet of FLEET (with packages installed first): a first
    deploy, a no-op re-run, a new release; with env as Ansible's environment. Returns {column: deploy()'s result}."""
    path = os.path.join(workdir, "fleet.yml" if fleet else "inventory.yml")
    new_release = os.path.join(tmp, "app-new")
    if not os.path.isdir(new_release):
        run(["cp", "-r", os.path.join(PROJECT, "examples", "app"), new_release])
    if fleet:
        fleet_inventory(path, {name: start_host(name, memory) for name, memory in FLEET_MEMORY_MB.items()})
    else:
        inventory(path, HOST, start_host(HOST))
    if packages:
        for name in FLEET if fleet else (HOST,):
            apt_install(name, packages)
    log("deploy cost, %s, run %d, strategy %s" % (
        "fleet" if fleet else "one host", attempt + 1, (env or ENV).get("ANSIBLE_STRATEGY", "linear")))
    results = {}
    for column in ("first deploy", "no-op re-run", "new release"):
        extra = None
        if column == "new release":
            with open(os.path.join(new_release, "VERSION"), "w") as handle:
                handle.write("bench-%d-%f\n" % (attempt, time.time()))
            extra = {"app_src": new_release}
        results[column] = deploy(path, extra, env=env)
        if column == "no-op re-run" and results[column]["recap"]["changed"]:
            raise SystemExit("the re-run changed %d things: not idempotent" % results[column]["recap"]["changed"])
    if fleet:
        remove_hosts(FLEET)
    return results


def deploy_summary(attempts):
    """Each column's seconds over the attempts, and the first attempt's whole results."""
    return {"columns": {column: stats([a[column]["seconds"] for a in attempts]) for column in attempts[0]},
            "first": attempts[0], "new_release_seconds": [a["new release"]["seconds"] for a in attempts]}


def deploy_cost(runs, workdir, tmp, env=None, packages=(), fleet=False):
    """deploy_attempt() `runs` times, and for one host the round trip and the start-up of a playbook."""
    cost = deploy_summary([deploy_attempt(attempt, workdir, tmp, env, packages, fleet) for attempt in range(runs)])
    if not fleet:
        cost["round_trip"], cost["start_up"] = round_trip(os.path.join(workdir, "inventory.yml"), tmp, env)
    return cost


def deploy_costs_paired(runs, workdir, tmp, packages=()):
    """One host's attempts (with packages installed first) and the fleet's in turn, so that a machine whose speed
    drifts during the run weighs on both sides of the fleet's ratio (#35's goal), as the ratios of section 1 are
    taken within one run."""
    one, fleet = [], []
    for attempt in range(runs):
        one.append(deploy_attempt(attempt, workdir, tmp, packages=packages))
        fleet.append(deploy_attempt(attempt, workdir, tmp, fleet=True))
    cost = deploy_summary(one)
    cost["round_trip"], cost["start_up"] = round_trip(os.path.join(workdir, "inventory.yml"), tmp)
    return cost, dict(deploy_summary(fleet), paired=True)


MITOGEN = "mitogen==0.3.54"


def mitogen_env():
    """Ansible's environment with Mitogen's strategy (optional, #35), from a copy of the package
    in .tmp/mitogen rather than in the project's virtualenv, which needs none of it. Mitogen checks
    host keys itself, ignoring the inventory's ssh arguments: the bench's hosts are fresh containers."""
    target = os.path.join(PROJECT, ".tmp", "mitogen")
    if not os.path.isdir(os.path.join(target, "ansible_mitogen")):
        run([os.path.join(PROJECT, ".venv", "bin", "python"), "-m", "pip", "install", "-q", "--target", target, MITOGEN])
    return dict(ENV, PYTHONPATH=target, ANSIBLE_STRATEGY="mitogen_linear", ANSIBLE_HOST_KEY_CHECKING="false",
                ANSIBLE_STRATEGY_PLUGINS=os.path.join(target, "ansible_mitogen", "plugins", "strategy"))


# --- 1. serving ----------------------------------------------------------------------

NGINX_SITE = """\
# The shape of the nginx example in uvicorn's and gunicorn's deployment docs,
# with TLS set as Caddy's is: TLS 1.2-1.3, AES-128-GCM, an ECDSA P-256 key.
upstream bench_gunicorn {
    server unix:/run/bench-gunicorn/gunicorn.sock fail_timeout=0;
}
server {
    listen 8443 ssl;
    server_name localhost;
    ssl_certificate /etc/nginx/bench.crt;
    ssl_certificate_key /etc/nginx/bench.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
    location / {
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_redirect off;
        proxy_buffering off;
        proxy_pass http://bench_gunicorn;
    }
}
"""
UV = "UV_NATIVE_TLS=1 $(ls -d /opt/asgi-deploy/uv/*/uv | tail -n 1)"


def install_alternatives(host):
    """The two load clients (serve_load.py with h2load, load.py), Debian's nginx, and two
    virtualenvs with the app's locked packages: one adds gunicorn and uvicorn-worker, the
    other adds the serving part of what FastAPI's docs install (fastapi[standard]): its CLI and
    uvicorn[standard]. The whole extra also brings OpenTelemetry's SDK since fastapi 0.165, whose
    pins can refuse the app's own (opentelemetry-api 1.45.3 against the SDK's 1.45.2)."""
    apt_install(host, ["nghttp2-client", "nginx"])
    run(["docker", "cp", os.path.join(HERE, "serve_load.py"), host + ":/usr/local/bin/serve_load.py"])
    run(["docker", "cp", os.path.join(HERE, "load.py"), host + ":/usr/local/bin/asgi_load.py"])
    lock = "/opt/%s/current/requirements.lock" % APP
    for venv, extra in (("gunicorn", "gunicorn uvicorn-worker"), ("fastapi", "fastapi-cli 'uvicorn[standard]'")):
        sh(host, "%s venv -q /opt/bench/%s --python /usr/bin/python3 && "
                 "%s pip install -q --python /opt/bench/%s/bin/python -r %s %s" % (UV, venv, UV, venv, lock, extra))
    sh(host, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost "
             "-days 7 -keyout /etc/nginx/bench.key -out /etc/nginx/bench.crt 2>/dev/null && "
             "rm -f /etc/nginx/sites-enabled/default && cat > /etc/nginx/sites-enabled/bench <<'EOF'\n%sEOF\n"
             "nginx -t 2>&1" % NGINX_SITE)


def app_settings(host, unit):
    """The serving slot's working directory, environment files and ASGI target, from its unit."""
    text = sh(host, "cat /etc/systemd/system/%s" % unit)
    return {"workdir": re.search(r"^WorkingDirectory=(.+)$", text, re.M).group(1),
            "env": re.findall(r"^EnvironmentFile=(.+)$", text, re.M),
            "module": re.search(r"/uvicorn (\S+) ", text).group(1)}


def start_alternative(host, stack, workers, path):
    """Start nginx + gunicorn, or fastapi run, as the app's user with its environment; returns the load arguments."""
    settings = app_settings(host, serving_unit(host))
    # The app's state directory: its SQLite file, which /items reads.
    properties = ["User=%s" % APP, "Group=%s" % APP, "WorkingDirectory=%s" % settings["workdir"],
                  "StateDirectory=%s" % APP] + [
        "EnvironmentFile=%s" % path for path in settings["env"]]
    if stack == "nginx + gunicorn":
        unit, properties = "bench-gunicorn", properties + ["RuntimeDirectory=bench-gunicorn"]
        command = ("/opt/bench/gunicorn/bin/gunicorn %s --worker-class uvicorn_worker.UvicornWorker --workers %d "
                   "--bind unix:/run/bench-gunicorn/gunicorn.sock" % (settings["module"], workers))
        args = {"units": [unit + ".service"], "proxy": "nginx", "url": "https://localhost:8443" + path}
        then = " && systemctl start nginx"
    else:
        module, variable = settings["module"].split(":")
        unit = "bench-fastapi"
        command = "/opt/bench/fastapi/bin/fastapi run --workers %d --host 127.0.0.1 --port 8002 -e %s:%s" % (
            workers, module, variable)
        args = {"units": [unit + ".service"], "proxy": "", "url": "http://127.0.0.1:8002" + path}
        then = ""
    sh(host, "systemd-run -q --unit %s %s %s%s" % (
        unit, " ".join("-p " + shlex.quote(p) for p in properties), command, then))
    sh(host, "python3 /usr/local/bin/serve_load.py --wait 60 %s" % args["url"], timeout=90)
    return args


def stop_alternatives(host):
    sh(host, "systemctl stop nginx bench-gunicorn bench-fastapi 2>/dev/null; "
             "systemctl reset-failed bench-gunicorn bench-fastapi 2>/dev/null; true")


def through_caddy(unit, path):
    """Load arguments: https://localhost through Caddy to the serving slot, as deployed."""
    return {"units": [unit], "proxy": "caddy", "url": "https://localhost" + path}


def direct(unit, path):
    """Load arguments: straight on the stable socket of the serving slot."""
    return {"units": [unit], "proxy": "", "unix": SOCKET, "url": "http://localhost" + path}


def measure(host, args, seconds, connections, warm=2):
    """A warm-up, then one measured h2load run (serve_load.py in the container)."""
    base = "python3 /usr/local/bin/serve_load.py --connections %d %s %s %s" % (
        connections, "--units " + " ".join(args["units"]) if args["units"] else "",
        "--proxy " + args["proxy"] if args["proxy"] else "", "--unix " + args["unix"] if args.get("unix") else "")
    sh(host, "%s --seconds %d %s" % (base, warm, shlex.quote(args["url"])), timeout=warm + 60)
    out = sh(host, "%s --seconds %d %s" % (base, seconds, shlex.quote(args["url"])), timeout=seconds + 120)
    return json.loads(out.strip().splitlines()[-1])


ITEMS = 100


ADD_ITEMS = """\
import json, ssl, sys, urllib.request
context = ssl.create_default_context(cafile=sys.argv[2])
for n in range(int(sys.argv[1])):
    body = json.dumps({"name": "a benchmark item named for its row, %d" % n}).encode()
    urllib.request.urlopen(urllib.request.Request(
        "https://localhost/items", body, {"Content-Type": "application/json"}), context=context).read()
print(len(urllib.request.urlopen("https://localhost/items", context=context).read()))
"""


def add_items(host, count):
    """count rows in the app's items table, by POSTs through Caddy: GET /items is then a query and about 5 KiB of
    JSON, an endpoint shaped like a real app's. Returns the size of that JSON."""
    return int(sh(host, "python3 - %d %s <<'EOF'\n%sEOF" % (count, ROOT_CA, ADD_ITEMS)).strip())


def serving(host, inventory_path, runs, seconds, connections, cpu_n):
    """Rows keyed (endpoint, path, workers label); the slot's worker count is set by a deploy, as a user sets it."""
    from uvicorn_workers import uvicorn_workers  # pylint: disable=import-outside-toplevel
    cpus = int(sh(host, "nproc"))
    items_bytes = add_items(host, ITEMS)
    filter_count = uvicorn_workers(CONTAINER_MEMORY_MB, cpus=cpus, switch=True)
    counts = [("1", 1), ("2", 2)] + ([("filter", filter_count)] if filter_count not in (1, 2) else [])
    rows = {}
    for label, workers in counts:
        deploy(inventory_path, {"app_workers": workers})
        unit = serving_unit(host)
        plan = [("/pid", "caddy", through_caddy(unit, "/pid")), ("/pid", "direct", direct(unit, "/pid")),
                ("/cpu", "direct", direct(unit, "/cpu?n=%d" % cpu_n))]
        if workers == filter_count:
            plan += [("/pid", "nginx + gunicorn", None), ("/pid", "fastapi run", None),
                     ("/items", "caddy", through_caddy(unit, "/items")), ("/items", "nginx + gunicorn", None)]
        for attempt in range(runs):
            # Every row once per run, so drift on a shared machine hits all alike.
            for endpoint, path, args in plan:
                if args is None:
                    sample = measure(host, start_alternative(host, path, workers, endpoint), seconds, connections)
                    stop_alternatives(host)
                else:
                    sample = measure(host, args, seconds, connections)
                rows.setdefault((endpoint, path, label), {"workers": workers, "samples": []})["samples"].append(sample)
                log("serving %s %s, %d workers, run %d: %.0f req/s, p99 %.1f ms, %.0f %% busy" % (
                    endpoint, path, workers, attempt + 1, sample["rps"], sample["p99_ms"], 100 * sample["busy"]))
    deploy(inventory_path)
    return {"cpus": cpus, "filter": filter_count, "cpu_n": cpu_n, "items": ITEMS, "items_bytes": items_bytes,
            "rows": [dict(endpoint=key[0], path=key[1], label=key[2], **value) for key, value in rows.items()]}


PARTS = ("client", "proxy", "journal", "app")


def limit(row, sample, cpus):
    """Requests/s when the CPUs are the limit, from this run's CPU per request of each part: the
    machine's CPUs for all parts together, and for each part the CPUs it can use at most (one
    per uvicorn or gunicorn process serving, h2load's 2 threads, journald's one). A sync endpoint
    runs in the worker's thread pool, so one process can go a little past one CPU."""
    cost = sample["cpu_ms"]
    most = {"client": 2, "proxy": cpus, "journal": 1, "app": min(row["workers"], cpus)}
    bounds = [1000.0 * cpus / sum(cost[part] for part in PARTS)]
    bounds += [1000.0 * most[part] / cost[part] for part in PARTS if cost[part] > 0]
    return min(bounds)


def summarize(serving_results):
    cpus = serving_results["cpus"]
    for row in serving_results["rows"]:
        samples = row["samples"]
        row["rps"] = stats([s["rps"] for s in samples])
        row["p50_ms"] = stats([s["p50_ms"] for s in samples])
        row["p99_ms"] = stats([s["p99_ms"] for s in samples])
        row["failed"] = sum(s["failed"] for s in samples)
        row["busy"] = stats([s["busy"] for s in samples])
        row["efficiency"] = stats([s["rps"] / limit(row, s, cpus) for s in samples])
        row["cpu_ms"] = {part: stats([s["cpu_ms"][part] for s in samples]) for part in PARTS}
        row["rss_mb"] = {part: stats([s["rss_mb"][part] for s in samples]) for part in ("app", "proxy")}
        row["tls"] = samples[-1]["tls"]


# --- 2. restart under load -------------------------------------------------------------

UDS_UNIT = "example-uds.service"


def load(host, target, seconds, connections, extra=""):
    out = sh(host, "python3 /usr/local/bin/asgi_load.py %s --duration %d --connections %d %s"
             % (target, seconds, connections, extra), timeout=seconds + 120)
    return json.loads(out.strip().splitlines()[-1])


def use_uds_unit(host, unit):
    """The same service without its socket unit: uvicorn binds the socket itself."""
    slot = unit[:-len(".service")]
    sh(host, " && ".join([
        "sed -e '/^Requires=%s.socket/d' -e 's/^After=%s.socket /After=/'"
        " -e 's|--fd 3|--uds %s|' -e 's/^\\[Service\\]$/[Service]\\nRuntimeDirectory=example\\n"
        "RuntimeDirectoryMode=0755/' /etc/systemd/system/%s > /etc/systemd/system/%s"
        % (slot, slot, SOCKET, unit, UDS_UNIT),
        "systemctl daemon-reload", "systemctl stop %s.socket %s" % (slot, unit), "rm -f %s" % SOCKET,
        "systemctl start %s" % UDS_UNIT]))
    wait_healthy(host)


def use_socket_unit(host, unit):
    slot = unit[:-len(".service")]
    sh(host, "systemctl stop %s; rm -f /etc/systemd/system/%s %s; systemctl daemon-reload; "
             "systemctl start %s.socket %s; ln -s /run/example/%s.sock %s"
             % (UDS_UNIT, UDS_UNIT, SOCKET, slot, unit, slot.split("@")[1], SOCKET))
    wait_healthy(host)


def wait_healthy(host):
    sh(host, "python3 /usr/local/bin/serve_load.py --wait 60 --unix %s http://localhost/health" % SOCKET, timeout=90)


def restart_under_load(host, runs, connections):
    caddy = "--url https://localhost/pid --cacert %s" % ROOT_CA
    design = serving_unit(host)
    results, timelines = {}, {}
    for label, unit in (("socket unit (design)", design), ("uvicorn --uds", UDS_UNIT)):
        if unit == UDS_UNIT:
            use_uds_unit(host, design)
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
            use_socket_unit(host, design)
    return results, timelines


# --- 4. memory -----------------------------------------------------------------------------

def memory(host, connections, cpus, expected):
    """RSS after the load, against the plan the filter made for this host (expected workers on cpus)."""
    from uvicorn_workers import uvicorn_workers  # pylint: disable=import-outside-toplevel
    unit = serving_unit(host)
    # Warm: every worker has served through both paths.
    for args in (direct(unit, "/pid"), through_caddy(unit, "/pid")):
        measure(host, args, 10, connections)
    main = sh(host, "systemctl show -p MainPID --value %s" % unit).strip()
    workers = worker_pids(host, unit)
    rss = [int(sh(host, "awk '/VmRSS/ {print $2}' /proc/%d/status" % pid)) / 1024 for pid in workers]
    main_rss = int(sh(host, "awk '/VmRSS/ {print $2}' /proc/%s/status" % main)) / 1024
    caddy_rss = int(sh(host, "ps -o rss= -C caddy | awk '{s+=$1} END {print s}'")) / 1024
    # The budget the role sized the workers with: the filter's own defaults.
    plan = {name: parameter.default for name, parameter in inspect.signature(uvicorn_workers).parameters.items()
            if name in ("per_worker_mb", "reserve_mb", "utilization")}
    total = sum(rss) + main_rss + caddy_rss
    return dict(plan, workers=len(workers), filter_workers=expected, worker_rss=stats(rss),
                main_rss=main_rss, caddy_rss=caddy_rss, total=total, memory=CONTAINER_MEMORY_MB,
                target=CONTAINER_MEMORY_MB * plan["utilization"],
                budget=expected * plan["per_worker_mb"] + plan["reserve_mb"], cpus=cpus)


def worker_pids(host, unit):
    """uvicorn's workers, found as the Molecule verifiers find them."""
    import testinfra  # pylint: disable=import-outside-toplevel
    from asgi_testlib import worker_pids as pids_of  # pylint: disable=import-outside-toplevel
    return pids_of(testinfra.get_host("docker://" + host), unit)


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
        "container": "%d MiB memory, all %s CPUs shared with the client" % (CONTAINER_MEMORY_MB, os.cpu_count()),
        "ansible-core": run(["ansible", "--version"]).stdout.split("\n")[0],
        "docker": run(["docker", "--version"]).stdout.strip(),
        "target": sh(host, ". /etc/os-release; echo $PRETTY_NAME").strip(),
        "load generator": sh(host, "h2load --version").strip(),
        "caddy": sh(host, "caddy version").strip().split()[0],
        "nginx": sh(host, "nginx -v 2>&1").strip(),
        "uvicorn": sh(host, "/opt/example/current/venv/bin/python -m uvicorn --version").strip(),
        "gunicorn": sh(host, "/opt/bench/gunicorn/bin/gunicorn --version").strip(),
        "fastapi run": sh(host, "/opt/bench/fastapi/bin/fastapi --version").strip().splitlines()[0],
        "python (target)": sh(host, "python3 --version").strip(),
    }


def met(condition):
    return "yes" if condition else "**no**"


def report_serving(data):
    s = data["serving"]
    rows, cpus = s["rows"], s["cpus"]

    def find(endpoint, path, label):
        return next(row for row in rows if (row["endpoint"], row["path"], row["label"]) == (endpoint, path, label))

    # The alternatives ran at the filter's count, whichever label that has.
    top = next(row["label"] for row in rows if row["path"] == "nginx + gunicorn")
    out = ["## 1. Serving", "",
           "h2load (HTTP/1.1, %d keep-alive connections, 2 threads, %d s after a 2 s warm-up) on the same host as "
           "the server, so the client's CPU is counted too. *caddy*: `https://localhost/` through Caddy to the "
           "serving slot's socket, as deployed (a connection per request to the app: `keepalive off`, the switch's "
           "guard against lost POSTs); *direct*: h2load on uvicorn's unix socket, keep-alive. `/pid` is trivial; "
           "`/cpu?n=%d` is %d rounds of pure-Python arithmetic. Worker counts are set by a deploy with "
           "`app_workers`; *filter* is what the filter sizes for %d MiB and %d CPUs (%d)."
           % (data["connections"], data["seconds"], s["cpu_n"], s["cpu_n"], CONTAINER_MEMORY_MB, cpus, s["filter"]),
           "", "*Efficiency*: req/s over the CPU-bound limit of that run, from the CPU each part spent per request "
           "(client, proxy, journald, app): the %d CPUs for all parts together, and each part on the CPUs it can "
           "use at most (a uvicorn process one: a sync endpoint's thread pool lets it go a little past, so a "
           "figure slightly above 1 says the one process was the limit)." % cpus, "",
           "| endpoint | path | workers | req/s | p50 ms | p99 ms | failed | machine busy | efficiency |",
           "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        out.append("| %s | %s | %d (%s) | %s | %s | %s | %d | %.0f %% | %s |" % (
            row["endpoint"], row["path"], row["workers"], row["label"], fmt(row["rps"], 0), fmt(row["p50_ms"], 2),
            fmt(row["p99_ms"], 2), row["failed"], 100 * row["busy"]["median"], fmt(row["efficiency"], 2)))
    out += ["", "CPU milliseconds per request of each part, and memory after the run (MiB, all processes of each):", "",
            "| endpoint | path | workers | client | proxy | journald | app | app RSS | proxy RSS | TLS |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        out.append("| %s | %s | %d | %s | %.0f | %.0f | %s |" % (
            row["endpoint"], row["path"], row["workers"], " | ".join(fmt(row["cpu_ms"][p], 3) for p in PARTS),
            row["rss_mb"]["app"]["median"], row["rss_mb"]["proxy"]["median"], row["tls"]))

    caddy, nginx, fastapi = (find("/pid", path, top) for path in ("caddy", "nginx + gunicorn", "fastapi run"))
    one, two = find("/cpu", "direct", "1"), find("/cpu", "direct", "2")
    scale = two["rps"]["median"] / one["rps"]["median"]
    worst = min(row["efficiency"]["median"] for row in rows)
    versus = caddy["rps"]["median"] / nginx["rps"]["median"]
    out += ["", "The stack a user would pick instead, %d workers each, same app: *nginx + gunicorn*, Debian's nginx "
            "(its default nginx.conf, access log to a file) on TLS set as Caddy's, proxying to gunicorn with "
            "uvicorn workers on a unix socket, the app's locked packages plus gunicorn and uvicorn-worker; *fastapi "
            "run*, plain HTTP on 127.0.0.1:8002, no proxy, with the serving part of what FastAPI's docs install "
            "(`fastapi[standard]`): its CLI and `uvicorn[standard]`, with uvloop and httptools, which the example app "
            "does not pin." % caddy["workers"], "",
            "| stack | req/s | p99 ms | RSS MiB (app + proxy) | CPU ms per request (proxy + journald + app) |",
            "|---|---|---|---|---|"]
    for name, row in (("Caddy + socket-activated uvicorn (asgi.deploy)", caddy), ("nginx + gunicorn", nginx),
                      ("fastapi run, no TLS", fastapi)):
        out.append("| %s | %s | %s | %.0f | %.3f |" % (
            name, fmt(row["rps"], 0), fmt(row["p99_ms"], 2),
            row["rss_mb"]["app"]["median"] + row["rss_mb"]["proxy"]["median"],
            sum(row["cpu_ms"][p]["median"] for p in ("proxy", "journal", "app"))))
    extra = {part: caddy["cpu_ms"][part]["median"] - nginx["cpu_ms"][part]["median"] for part in PARTS}
    out += ["", "Per request, Caddy's path spent %.3f ms more CPU than nginx's: %.3f ms in the proxy, %.3f ms in "
            "journald (Caddy's access log; nginx writes its own to a file), %.3f ms in the app (uvicorn behind "
            "Caddy against gunicorn behind nginx, both a connection per request), %.3f ms in the client. What the "
            "difference buys: certificates issued and renewed by Caddy itself, a Caddyfile validated before it "
            "is loaded, requests held and retried while a slot switches (`lb_try_duration`), and the access log in "
            "the journal beside the app's." % (sum(extra.values()), extra["proxy"], extra["journal"], extra["app"],
                                               extra["client"])]
    ratios = [("/pid", versus, caddy["rps"]["max"] / nginx["rps"]["max"])]
    if any(row["endpoint"] == "/items" for row in rows):
        ours, theirs = (find("/items", path, top) for path in ("caddy", "nginx + gunicorn"))
        out += report_items(s, ours, theirs)
        ratios.append(("/items", ours["rps"]["median"] / theirs["rps"]["median"], ours["rps"]["max"] / theirs["rps"]["max"]))
    busy = {single: [row["busy"]["median"] for row in rows if (row["workers"] == 1) == single] for single in (True, False)}
    out += ["", "| goal | measured | met |", "|---|---|---|",
            "| machine ≥ 95 %% busy in every row | %.0f–%.0f %% with 2 or more workers; %.0f–%.0f %% with one, where the "
            "one uvicorn process is the limit (efficiency against one CPU above) | %s |" % (
                100 * min(busy[False]), 100 * max(busy[False]), 100 * min(busy[True]), 100 * max(busy[True]),
                met(min(busy[False] + busy[True]) >= 0.95)),
            "| efficiency ≥ 0.85 on every row | lowest %.2f | %s |" % (worst, met(worst >= 0.85)),
            "| `/cpu` direct: 2 workers ≥ 1.7× one worker | %.2f× (%.0f / %.0f req/s) | %s |" % (
                scale, two["rps"]["median"], one["rps"]["median"], met(scale >= 1.7)),
            ] + ["| Caddy + socket-activated uvicorn ≥ 0.85× nginx + gunicorn req/s on `%s`, %d workers, TLS 1.3 both "
                 "(#36) | %.2f× (best runs: %.2f×) | %s |" % (endpoint, caddy["workers"], ratio, best, met(ratio >= 0.85))
                 for endpoint, ratio, best in ratios] + [""]
    return out


def report_items(s, ours, theirs):
    """The two stacks' rows on GET /items: a query and a few KiB of JSON, where the proxy's share of the CPU is
    smaller."""
    out = ["", "The same two stacks on `GET /items`, shaped like a real app's endpoint: a query of the %d rows of the "
           "app's table (SQLite, in the app's state directory) and %d bytes of JSON." % (s["items"], s["items_bytes"]), "",
           "| stack | req/s | p99 ms | CPU ms per request (proxy + journald + app) | proxy + journald share |",
           "|---|---|---|---|---|"]
    for name, row in (("Caddy + socket-activated uvicorn (asgi.deploy)", ours), ("nginx + gunicorn", theirs)):
        cost = {part: row["cpu_ms"][part]["median"] for part in ("proxy", "journal", "app")}
        out.append("| %s | %s | %s | %.3f | %.0f %% |" % (
            name, fmt(row["rps"], 0), fmt(row["p99_ms"], 2), sum(cost.values()),
            100 * (cost["proxy"] + cost["journal"]) / sum(cost.values())))
    return out


def report_deploy(data):
    c = data["deploy"]
    columns = ("first deploy", "no-op re-run", "new release")
    out = ["## 3. Deploy cost", "",
           "Wall time of `ansible-playbook site.yml` (seconds) on one fresh host (a systemd container with its own "
           "sshd), over SSH with pipelining and Ansible's default ControlPersist, the controller on the same 2 CPUs; "
           "a new release is the example app with another VERSION file. The host is set as inventories/single-vm: "
           "SQLite, which a new release snapshots before it runs the migration (`alembic upgrade head`).", "",
           "| first deploy | no-op re-run | new release |", "|---|---|---|",
           "| %s |" % " | ".join(fmt(c["columns"][k]) for k in columns), "",
           "Round trips (first run of each): tasks reported ok (changed ones included; a few, the checks and "
           "set_fact, run on the controller only) and tasks skipped on the controller. One task that runs a "
           "module over this connection costs %.3f s (%d `command: /bin/true` tasks, less a playbook of one; a "
           "playbook's start-up is %.1f s)." % (
               c["round_trip"], ROUND_TRIPS, c["start_up"]), "",
           "| | first deploy | no-op re-run | new release |", "|---|---|---|---|"]
    recap = {k: c["first"][k]["recap"] for k in columns}
    out += ["| tasks run | %s |" % " | ".join(str(recap[k]["ok"]) for k in columns),
            "| of which changed | %s |" % " | ".join(str(recap[k]["changed"]) for k in columns),
            "| tasks skipped | %s |" % " | ".join(str(recap[k]["skipped"]) for k in columns),
            "| tasks run × one round trip + start-up, s | %s |" % " | ".join(
                "%.1f" % (recap[k]["ok"] * c["round_trip"] + c["start_up"]) for k in columns)]
    noop, new = c["columns"]["no-op re-run"]["median"], c["columns"]["new release"]["median"]
    # The app's own start: the preflight play (import, the health answer, the stable period).
    start = sum(sec for play, sec in c["first"]["new release"]["plays"] if play.startswith("Start the new release"))
    out += ["", "| goal | measured | met | tasks the goal holds at one round trip each |", "|---|---|---|---|",
            "| no-op re-run ≤ 5 s | %.1f s | %s | %d |" % (
                noop, met(noop <= 5), (5 - c["start_up"]) / c["round_trip"]),
            "| new release ≤ 12 s + the app's start (the preflight play, %.1f s) | %.1f s | %s | %d |"
            % (start, new, met(new <= 12 + start), (12 - c["start_up"]) / c["round_trip"]), "",
            "Seconds per play (first run of each):", "",
            "| play | %s |" % " | ".join(columns), "|---|---|---|---|"]
    names = []
    for k in columns:
        names += [name for name, _sec in c["first"][k]["plays"] if name not in names]
    for name in names:
        out.append("| %s | %s |" % (name, " | ".join(
            "%.1f" % sum(sec for play, sec in c["first"][k]["plays"] if play == name) for k in columns)))
    out += ["", "Slowest tasks (profile_tasks, first run of each):", ""]
    for k in columns:
        out.append("- %s: %s" % (k, "; ".join("%s %.1fs" % (name, sec) for name, sec in c["first"][k]["slowest"][:6])))
    f = data.get("deploy_fleet")
    if f:
        out += report_fleet(c, f)
    m = data.get("deploy_mitogen")
    if m:
        out += ["", "With Mitogen (`--mitogen`, %s, strategy `mitogen_linear`), an option a user may add, not a "
                "requirement; both ways on hosts given python3-apt before the first deploy:" % MITOGEN, "",
                "| strategy | first deploy | no-op re-run | new release | one round trip, s |", "|---|---|---|---|---|"]
        for label, d in (("Ansible's default (linear)", c), ("Mitogen", m)):
            out.append("| %s | %s | %.3f |" % (label, " | ".join(fmt(d["columns"][k]) for k in columns), d["round_trip"]))
    return out + [""]


def report_fleet(c, f):
    """The fleet's figures beside one host's, against #35's goals for a fleet."""
    columns = ("first deploy", "no-op re-run", "new release")
    noop, new = f["columns"]["no-op re-run"]["median"], f["columns"]["new release"]["median"]
    one = c["columns"]["new release"]["median"]
    out = ["", "The same three on the example fleet (inventories/fleet, fresh hosts each run): the edge and the "
           "database host with %d MiB, two app hosts with %d MiB reached by the edge over TCP, PostgreSQL; a new "
           "release switches the app hosts one at a time, after a snapshot of PostgreSQL and the migration (alembic), as "
           "the one host's snapshots its SQLite file and migrates. Tasks: the recap's ok, summed over the hosts." % (
               FLEET_MEMORY_MB[FLEET[0]], FLEET_MEMORY_MB[FLEET[1]]), "",
           "| hosts | first deploy | no-op re-run | new release | tasks run (first, no-op, new) |",
           "|---|---|---|---|---|"]
    for label, d in (("one host", c), ("edge + 2 app hosts + db", f)):
        out.append("| %s | %s | %s |" % (label, " | ".join(fmt(d["columns"][k]) for k in columns),
                                         ", ".join(str(d["first"][k]["recap"]["ok"]) for k in columns)))
    out += ["", "| goal | measured | met |", "|---|---|---|",
            "| no-op re-run of the fleet ≤ 7 s | %.1f s | %s |" % (noop, met(noop <= 7)),
            "| new release on the fleet ≤ 1.3× one host | %.1f s, %.2f× one host's %.1f s | %s |" % (
                new, new / one, one, met(new <= 1.3 * one)), ""]
    if f.get("paired"):
        ratios = [fleet / host for fleet, host in zip(f["new_release_seconds"], c["new_release_seconds"])]
        out += ["One host's runs and the fleet's in turn; the fleet's new release ÷ one host's, run by run: %s "
                "(median %.2f×)." % (", ".join("%.2f×" % ratio for ratio in ratios), statistics.median(ratios)), ""]
    out += ["Seconds per play of a new release (first run of each):", "",
            "| play | one host | fleet |", "|---|---|---|"]
    plays = {k: d["first"]["new release"]["plays"] for k, d in (("one", c), ("fleet", f))}
    names = []
    for k in plays:
        names += [name for name, _sec in plays[k] if name not in names]
    for name in names:
        out.append("| %s | %s |" % (name, " | ".join(
            "%.1f" % sum(sec for play, sec in plays[k] if play == name) for k in plays)))
    return out


def report(data, path):
    out = ["# Benchmark results", "",
           "Written by `make bench` (benchmarks/bench.py) on %s. Each figure: median (min–max) of %d runs. "
           "Measurements made by hand or by the Molecule scenarios are in "
           "[RESULTS-by-hand.md](RESULTS-by-hand.md)." % (data["date"], data["runs"]), ""]
    out += ["| | |", "|---|---|"] + ["| %s | %s |" % item for item in data["versions"].items()] + [""]
    out += report_serving(data)

    r = data["restart"]
    out += ["## 2. Restart under load", "",
            "`systemctl restart` 4 s into 12 s of load through Caddy (%d connections of benchmarks/load.py, a Python "
            "client that records every request's time). The socket unit is the design; *uvicorn --uds* is the same "
            "service with no socket unit, uvicorn binding the socket itself." % data["restart_connections"], "",
            "| unit | requests | failed | worst latency ms | errors (last run) |", "|---|---|---|---|---|"]
    for label, row in r.items():
        out.append("| %s | %s | %s | %s | %s |" % (label, fmt(row["requests"], 0), fmt(row["failed"], 0),
                                                   fmt(row["max_ms"], 0), row["errors"] or "none"))
    if data.get("restart_plot"):
        out += ["", "![latency during a restart](restart.png)"]
    out += [""]
    out += report_deploy(data)

    m = data["memory"]
    out += ["## 4. Memory sizing truth", "",
            "After the serving runs, on the deployment with the filter's workers (container limit %d MiB, %d CPUs)."
            % (m["memory"], m["cpus"]), "",
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
                m["total"], m["target"], met(m["total"] <= m["target"])),
            "| worker RSS within its budget | %.1f ≤ %d | %s |" % (
                m["worker_rss"]["max"], m["per_worker_mb"], met(m["worker_rss"]["max"] <= m["per_worker_mb"])), ""]
    with open(path, "w") as handle:
        handle.write("\n".join(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median, min, max)")
    parser.add_argument("--seconds", type=int, default=10, help="seconds of load per serving run")
    parser.add_argument("--connections", type=int, default=64, help="h2load's connections per serving run")
    parser.add_argument("--cpu-n", type=int, default=50000, help="rounds of arithmetic per /cpu request")
    parser.add_argument("--restart-connections", type=int, default=16, help="load.py's connections in section 2")
    parser.add_argument("--skip-deploy", action="store_true", help="leave section 3 out (a quicker run)")
    parser.add_argument("--mitogen", action="store_true",
                        help="section 3 also with Mitogen's strategy (%s from PyPI), on hosts given python3-apt "
                             "first, both ways" % MITOGEN)
    parser.add_argument("--keep", action="store_true", help="leave the container running")
    parser.add_argument("--report-only", action="store_true",
                        help="write RESULTS.md again from the last run's .tmp/bench/results.json")
    args = parser.parse_args()
    if args.report_only:
        with open(os.path.join(WORKDIR, "results.json")) as handle:
            report(json.load(handle), os.path.join(HERE, "RESULTS.md"))
        return
    if args.runs < 1 or not 1 <= args.seconds <= 60 or args.connections < 1:
        parser.error("--runs and --connections must be at least 1 and --seconds 1..60")

    os.makedirs(ENV["HOME"], exist_ok=True)
    data = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "runs": args.runs, "seconds": args.seconds, "connections": args.connections,
            "restart_connections": args.restart_connections}
    if not args.skip_deploy:
        with tempfile.TemporaryDirectory() as tmp:
            # Mitogen runs a module in place and cannot restart apt's under the
            # interpreter that has python3-apt, as the default strategy does
            # after installing it: both ways get it first, for a fair pair.
            packages = ["python3-apt"] if args.mitogen else []
            data["deploy"], data["deploy_fleet"] = deploy_costs_paired(args.runs, WORKDIR, tmp, packages)
            if args.mitogen:
                data["deploy_mitogen"] = deploy_cost(args.runs, WORKDIR, tmp, env=mitogen_env(), packages=packages)

    path = os.path.join(WORKDIR, "inventory.yml")
    inventory(path, HOST, start_host(HOST))
    deploy(path)
    install_alternatives(HOST)
    data["versions"] = versions(HOST)
    data["serving"] = serving(HOST, path, args.runs, args.seconds, args.connections, args.cpu_n)
    summarize(data["serving"])
    data["memory"] = memory(HOST, args.connections, data["serving"]["cpus"], data["serving"]["filter"])
    data["restart"], timelines = restart_under_load(HOST, args.runs, args.restart_connections)
    # A run without section 3 leaves the published results, and what --report-only reads, as they were.
    out, results = (HERE, "results.json") if "deploy" in data else (WORKDIR, "results-partial.json")
    data["restart_plot"] = plot_restart(timelines, os.path.join(out, "restart.png"))
    if not args.keep:
        remove_hosts([HOST])
        run(["docker", "network", "rm", NETWORK], check=False)

    with open(os.path.join(WORKDIR, results), "w") as handle:
        json.dump(data, handle, indent=1)
    if "deploy" in data:
        report(data, os.path.join(HERE, "RESULTS.md"))
        log("wrote benchmarks/RESULTS.md")
    else:
        log("section 3 skipped: results in %s and %s, RESULTS.md left as it was" % (
            os.path.join(WORKDIR, results), os.path.join(WORKDIR, "restart.png")))


if __name__ == "__main__":
    main()
