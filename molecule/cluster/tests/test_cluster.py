"""A fleet behind one edge: balancing, migrations exactly once, rolling deploys
with zero failed requests, a failed migration and a failed health check that
change nothing, a stopped app host, rollback, the database down at deploy
time, and every host rebooted with the database last. Tests run in file order."""
import json
import os
import re
import shlex
import subprocess
import time

import pytest
from asgi_testlib import (CADDY_ROOT_ON_HOST, BackgroundLoop, app_copy, app_dropping_names, booted, deploy,
                          deploy_with_a_full_backup_disk, exposure, heavy_app, host_state, live_unit, main_pid,
                          other_host, probe, recap_changes, restore_when_not_serving, row_ids, snapshot_lines,
                          task_hosts, task_results, wait_for, why, worker_pids)

APPS = ["asgi-cluster-app1", "asgi-cluster-app2"]
URL = ["--url", "https://localhost/", "--cacert", CADDY_ROOT_ON_HOST]


@pytest.fixture(scope="module")
def apps():
    return {name: other_host(name) for name in APPS}


@pytest.fixture(scope="module")
def db():
    return other_host("asgi-cluster-db")


@pytest.fixture(autouse=True)
def leaves_fleet_serving(host, apps, db):
    """A test that stops halfway leaves every host serving for the next: the
    database up, both app hosts active, the edge answering."""
    yield

    def serving():
        return (db.run("systemctl is-active postgresql").rc == 0
                and all(app.run("systemctl is-active %s" % unit(app)).rc == 0 for app in apps.values())
                and probe(host, *URL, "--count", "1", "--timeout", "5")["failed"] == 0)

    def redeploy():
        db.run("systemctl start postgresql")
        for app in apps.values():
            app.run("systemctl reset-failed %s" % unit(app))
        return deploy()
    restore_when_not_serving(serving, redeploy, "the app hosts' example service")


def unit(app, kind="service"):
    """The serving slot's unit on an app host."""
    return live_unit(app, "example", kind)


def current(app):
    return os.path.basename(app.file("/opt/example/current").linked_to)


def migration_runs(db):
    return int(db.check_output(
        "runuser -u postgres -- psql -tA -d app -c 'select count(*) from migration_runs'"))


def loop(host):
    """Users through the edge: GETs, and every fourth request a POST that writes a row."""
    return BackgroundLoop(host, *URL, "--post-every", "4", "--concurrency", "2", "--count", "100000",
                          "--interval", "0.04", "--duration", "600")


def stored_ids(db):
    return row_ids(db, "runuser -u postgres -- psql -tA -d app -c 'select id from items'")


def report(what, summary):
    print("%s: sent %s, failed %s %s, retried by the client %d, worst %.2fs, p99 %.3fs, releases %s"
          % (what, summary["sent_by_method"], summary["failed_by_method"], summary["errors"], summary["retried"],
             summary["max_latency"] or 0, summary["p99"] or 0, summary["releases"]))


def test_edge_balances_across_both_app_hosts(host):
    summary = probe(host, *URL, "--count", "60")
    assert summary["failed"] == 0, summary
    hosts = probe_hosts(host)
    assert hosts == set(APPS), hosts


def test_an_edge_of_its_own_leaves_caddy_every_cpu(host):
    """No app's workers on the edge: Go's default, a thread per CPU (caddy_gomaxprocs)."""
    assert "GOMAXPROCS" not in host.check_output("systemctl show caddy -p Environment --value")


def probe_hosts(host):
    out = host.check_output("for i in $(seq 1 20); do python3 -c \"import json,ssl,urllib.request;"
                            "print(json.load(urllib.request.urlopen('https://localhost/', "
                            "context=ssl.create_default_context(cafile='%s')))['host'])\"; done" % CADDY_ROOT_ON_HOST)
    return set(out.split())


FREEZE = "import importlib.metadata as m; print('\\n'.join(sorted('%s==%s' % (d.metadata['Name'].lower(), d.version) for d in m.distributions())))"


def test_without_a_lock_every_app_host_runs_the_same_resolved_set(apps):
    """The example app has no lock: one host resolved, both installed that set."""
    freezes = {name: app.check_output("/opt/example/current/venv/bin/python -c \"%s\"" % FREEZE)
               for name, app in apps.items()}
    locks = {name: app.file("/opt/example/current/requirements.lock").content_string for name, app in apps.items()}
    print("installed on each app host: %d packages" % len(freezes[APPS[0]].splitlines()))
    assert len(freezes[APPS[0]].splitlines()) > 10
    assert freezes[APPS[0]] == freezes[APPS[1]]
    assert locks[APPS[0]] == locks[APPS[1]] and "fastapi==" in locks[APPS[0]]


def test_migration_ran_exactly_once(host, db):
    # converge and the idempotence run, two app hosts, serial 1
    assert migration_runs(db) == 1


def test_database_listens_only_for_the_app_hosts(host, db):
    hba = db.check_output("cat /etc/postgresql/*/main/pg_hba.conf")
    rules = [line.split() for line in hba.splitlines() if line.split()[:3] == ["host", "app", "app"]]
    assert len(rules) == 2 and all(rule[-1] == "scram-sha-256" for rule in rules), rules
    listen = db.check_output("cat /etc/postgresql/*/main/conf.d/asgi-deploy.conf")
    assert "'*'" not in listen and "0.0.0.0" not in listen


def test_postgresql_and_caddy_run_in_a_sandbox(host, db):
    """The tests of this file (migrations, rows written through the app, the
    reboot) pass with the database and the edge at these exposures."""
    cluster = db.check_output("systemctl list-units --plain --no-legend 'postgresql@*' | awk '{print $1}'")
    scores = {cluster: exposure(db, cluster), "caddy.service": exposure(host, "caddy.service")}
    print("exposure:", scores)
    assert all(score <= 2.5 for score in scores.values()), scores


CONNECT = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)"


def reaches(node, target, port):
    """Whether a TCP connection from node (a host, or None for a container on
    the scenario's network outside the inventory) to target:port opens."""
    if node is None:
        image = "asgi-deploy/%s:latest" % os.environ.get("MOLECULE_DISTRO", "debian12")
        return subprocess.run(["docker", "run", "--rm", "--network", "asgi-cluster", image,
                               "python3", "-c", CONNECT, target, str(port)],
                              capture_output=True, timeout=120, check=False).returncode == 0
    return node.run("python3 -c %s %s %d" % (shlex.quote(CONNECT), target, port)).rc == 0


TARGETS = {"app": (APPS[0], 8000), "postgresql": ("asgi-cluster-db", 5432), "https": ("asgi-cluster-edge", 443)}
# HTTPS from anywhere is the control: every source reaches something.
EXPECTED_FLOWS = {
    ("edge", "app"): True, ("edge", "postgresql"): False,
    ("app1", "postgresql"): True, ("app1", "https"): True,
    ("db", "app"): False, ("db", "https"): True,
    ("outsider", "app"): False, ("outsider", "postgresql"): False, ("outsider", "https"): True,
}


def flows(host, apps, db):
    """Which of EXPECTED_FLOWS open, from the edge, app1, the database host
    and a container outside the inventory."""
    nodes = {"edge": host, "app1": apps[APPS[0]], "db": db, "outsider": None}
    return {(source, target): reaches(nodes[source], *TARGETS[target]) for source, target in EXPECTED_FLOWS}


def test_firewalls_admit_exactly_the_deploys_flows(host, apps, db):
    """The app port from the edge only, PostgreSQL from the app hosts only."""
    seen = flows(host, apps, db)
    print("flows:", {"%s->%s" % key: "open" if value else "closed" for key, value in sorted(seen.items())})
    assert seen == EXPECTED_FLOWS
    for node in [host, db] + list(apps.values()):
        assert node.service("asgi-firewall").is_enabled
        assert "policy drop" in node.check_output("nft list chain inet asgi_deploy input")


# The most common shape of a FastAPI project's requirements.txt: the app's own
# dependencies pinned, nothing they need, no ASGI server. FastAPI 0.115.12
# takes a starlette below 0.47, far below starlette's newest release.
TOP_LEVEL_PINS = "fastapi==0.115.12\nsqlalchemy==2.1.9\nalembic==1.20.1\npsycopg[binary]==3.3.9\n"


def release_src(tmp_path, version):
    """A release of the example app whose workers hold about 110 MiB each,
    its requirements pinned at the top level only; the same version gives
    the same source, so the same release id."""
    return heavy_app(tmp_path / ("release-%s" % version),
                     write={"VERSION": version + "\n", "requirements.txt": TOP_LEVEL_PINS})


def test_two_rolling_deploys_in_a_row_drop_no_request(host, apps, db, tmp_path, fault):
    fault.fault = "two rolling deploys in a row to 2 app hosts of 1 GiB, workers of 110 MiB, GET+POST load"
    fault.expected = "neither refused; 0 failed; every acknowledged row stored"
    before = {name: current(app) for name, app in apps.items()}
    # Changed by hand on the db host: the first of the two deploys puts it
    # back; the second leaves the db host to the app's own plays, as the
    # first does the others (only the app's source differs).
    table = "nft -s list table inet asgi_deploy"
    rules = db.check_output(table)
    db.run_expect([0], "nft add rule inet asgi_deploy input tcp dport 9 accept")
    running = loop(host)
    try:
        results = [deploy(extra_vars={"app_src": release_src(tmp_path, version)}, args=["-v"]) for version in "23"]
    finally:
        summary = running.stop()
    report("rolling deploys of releases 2 and 3", summary)
    fleet = {host.backend.get_hostname(), "asgi-cluster-db"} | set(APPS)
    assert "the nftables table inet asgi_deploy changed" in results[0].stdout, why(results[0])
    assert db.check_output(table) == rules
    assert settled_hosts(results[0].stdout) == fleet - {"asgi-cluster-db"}, why(results[0])
    assert task_hosts(results[0].stdout, "Let exactly the app hosts in") == {"asgi-cluster-db"}
    assert settled_hosts(results[1].stdout) == fleet, why(results[1])
    for task in ("Let exactly the app hosts in", "asgi.deploy.caddy : Put the configuration in place",
                 "asgi.deploy.firewall : Write the unit that loads the rules"):
        assert task_hosts(results[1].stdout, task) == set(), (task, why(results[1]))
    fault.observed = "%d failed of %d (%d POST), worst %.2f s, p99 %.3f s" % (
        summary["failed"], summary["sent"], summary["sent_by_method"].get("POST", 0), summary["max_latency"] or 0,
        summary["p99"] or 0)
    for result in results:
        assert result.returncode == 0, why(result)
        assert switched_hosts(result.stdout) == set(APPS)
        # On 1 GiB the serving release gives back half its workers while the new one proves itself.
        assert "serves with 2 of its workers while release" in result.stdout, why(result)
        # Each host's preflight watched the new release for its stable period, at once, before the switch.
        periods = answered_after(result.stdout)
        assert set(periods) == set(APPS) and all(seconds >= 5 for seconds in periods.values()), periods
    assert summary["failed"] == 0, summary
    assert not set(summary["posted_ids"]) - stored_ids(db)
    after = {name: current(app) for name, app in apps.items()}
    assert len(set(after.values())) == 1 and set(after.values()).isdisjoint(before.values())
    assert migration_runs(db) == 3
    # Each grew back to the 4 workers the filter sized once the old release stopped.
    assert [len(worker_pids(app, unit(app))) for app in apps.values()] == [4, 4]


def settled_hosts(output):
    """The hosts a run named as what its record says but for the app's source."""
    return set(re.findall(r"([\w.-]+) is, but for the app's source, what the run of .*? left it as: the firewall, "
                          r"PostgreSQL and Caddy leave it out", output))


def pins(text):
    """{name: version} of the requirement lines of a requirements file, names as PEP 503 compares them."""
    pairs = (line.split("==", 1) for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {re.sub(r"[-_.]+", "-", name.lower()): version for name, version in pairs}


def test_top_level_pins_are_completed_once_and_every_host_runs_that_set(apps):
    """Not a lock: resolved once with the ASGI server, and the whole set
    recorded and installed, exactly, on both hosts."""
    recorded = {name: app.file("/opt/example/current/requirements.lock").content_string for name, app in apps.items()}
    assert recorded[APPS[0]] == recorded[APPS[1]]
    locked = pins(recorded[APPS[0]])
    print("recorded set: %d packages, starlette %s, uvicorn %s" % (len(locked), locked.get("starlette"),
                                                                   locked.get("uvicorn")))
    assert all("==" in line for line in recorded[APPS[0]].splitlines() if line.strip())
    assert locked["fastapi"] == "0.115.12" and "starlette" in locked and "uvicorn" in locked and "h11" in locked
    for app in apps.values():
        assert pins(app.check_output("/opt/example/current/venv/bin/python -c \"%s\"" % FREEZE)) == locked


def test_check_mode_on_the_fleet_predicts_the_changes_and_makes_none(host, apps, db, tmp_path):
    """--check --diff on every host: nothing predicted for the release they
    serve; for a new one with a changed environment value, each app host's
    start and switch predicted, the migration said to run once, and no host
    changed."""
    nodes = dict(apps, edge=host, db=db)
    before = {name: host_state(node) for name, node in nodes.items()}
    same = deploy(extra_vars={"app_src": release_src(tmp_path, "3")}, args=["--check", "--diff"])
    assert same.returncode == 0, why(same)
    assert recap_changes(same.stdout) == {name: 0 for name in ["asgi-cluster-edge", "asgi-cluster-db"] + APPS}, \
        same.stdout[-3000:]
    new = deploy(extra_vars={"app_src": release_src(tmp_path, "check"), "app_env": {"CHECK_MODE": "1"}},
                 args=["--check", "--diff"])
    assert new.returncode == 0, why(new)
    assert all(recap_changes(new.stdout)[name] > 0 for name in APPS), new.stdout[-3000:]
    assert len(re.findall(r"Check mode: release \S+ would be built here", new.stdout)) == 2, new.stdout[-3000:]
    assert new.stdout.count('Check mode: the migration "alembic upgrade head"') == 1
    assert task_results(new.stdout, "Start the release in the next slot") == ["changed"]
    assert {name: host_state(node) for name, node in nodes.items()} == before


def switched_hosts(output):
    """The hosts the rolling switch play ran its tasks on."""
    hosts, in_switch = set(), False
    for line in output.splitlines():
        if line.startswith("PLAY ["):
            in_switch = line.startswith("PLAY [Switch the app hosts")
        elif in_switch:
            hosts.update(re.findall(r"^(?:ok|changed|failed|fatal): \[([^]]+)\]", line))
    return hosts


def answered_after(output):
    """Seconds each host's new release took to answer and stay up in its
    preflight (app_slot's 'answered' step), from the output at -v."""
    return {host: float(seconds) for host, seconds in re.findall(
        r'^changed: \[([^]]+)\] => \{.*"(?:blue|green) answered \(([\d.]+) s\)"', output, re.M)}


def test_failed_migration_restarts_nothing(host, apps, db, tmp_path, fault):
    fault.fault, fault.expected = "migration fails halfway", "no restart, earlier data intact, 0 failed"
    serving = {name: current(app) for name, app in apps.items()}
    pids = {name: main_pid(app, unit(app)) for name, app in apps.items()}
    runs = migration_runs(db)
    rows_before = stored_ids(db)
    running = loop(host)
    src = app_copy(tmp_path, write={"migrations/versions/0002_broken.py": (
        'revision = "0002"\ndown_revision = "0001"\nbranch_labels = None\ndepends_on = None\n\n'
        'def upgrade():\n    raise RuntimeError("migration broken on purpose")\n')})
    result = deploy(extra_vars={"app_src": src})
    summary = running.stop()
    report("release with a failing migration", summary)
    assert result.returncode != 0
    assert "migration broken on purpose" in result.stdout
    assert summary["failed"] == 0, summary
    assert {name: current(app) for name, app in apps.items()} == serving
    assert {name: main_pid(app, unit(app)) for name, app in apps.items()} == pids
    # It ran once and failed; what earlier migrations wrote is intact.
    assert migration_runs(db) == runs + 1
    assert db.check_output("runuser -u postgres -- psql -tA -d app -c 'select version_num from alembic_version'") == "0001"
    assert rows_before | set(summary["posted_ids"]) <= stored_ids(db)
    fault.observed = "stopped before any switch; schema 0001, every row kept; %d failed of %d" % (
        summary["failed"], summary["sent"])


def test_failed_health_check_on_app1_leaves_app2_alone(host, apps, tmp_path, fault):
    fault.fault, fault.expected = "health check fails on app1 only", "preflight stops it everywhere; 0 requests reach it"
    serving = {name: current(app) for name, app in apps.items()}
    app2_pid = main_pid(apps["asgi-cluster-app2"], unit(apps["asgi-cluster-app2"]))
    running = loop(host)
    src = app_copy(tmp_path, replace={"app/main.py": (
        'def health():\n',
        'def health():\n    if socket.gethostname() == "asgi-cluster-app1":\n'
        '        raise RuntimeError("unhealthy on app1 on purpose")\n')})
    # app1 fails by its answers; the scenario's health timeout lets app2's
    # workers start on a busy machine.
    result = deploy(extra_vars={"app_src": src})
    summary = running.stop()
    report("release failing its health check on app1", summary)
    assert result.returncode != 0
    assert "%s still serves; no user request reached the new one" % serving["asgi-cluster-app1"] in result.stdout
    assert "failed it on\nasgi-cluster-app1" in result.stdout or "failed it on asgi-cluster-app1" in result.stdout
    assert summary["failed"] == 0, summary
    assert set(summary["releases"]) == set(serving.values()), summary
    assert {name: current(app) for name, app in apps.items()} == serving
    assert main_pid(apps["asgi-cluster-app2"], unit(apps["asgi-cluster-app2"])) == app2_pid
    fault.observed = "no host switched; %d requests, 0 failed, all from the serving release" % summary["sent"]


def test_stopped_app_host_is_routed_around(host, apps, fault):
    fault.fault, fault.expected = "one app host down", "edge routes around it, 0 failed"
    app2 = apps["asgi-cluster-app2"]
    # Stopping only the service would not do: its socket would start it again.
    units = "%s %s" % (unit(app2, "socket"), unit(app2))
    app2.run_expect([0], "systemctl stop " + units)
    try:
        summary = probe(host, *URL, "--count", "100", "--interval", "0.02")
        report("app2 stopped", summary)
        assert summary["failed"] == 0, summary
        assert probe_hosts(host) == {"asgi-cluster-app1"}
        fault.observed = "%d failed of %d, all from app1" % (summary["failed"], summary["sent"])
    finally:
        app2.run_expect([0], "systemctl start " + units)


def test_a_host_without_the_release_installs_the_recorded_set_and_only_it_switches(host, apps, tmp_path):
    """app2 as a host the release is not on, as a host added to the
    inventory later (its serving release's folder gone; the earlier ones
    stay for the rollback tests below): the deploy of the release app1
    serves builds it there from app1's recorded set, resolving nothing;
    app1, with nothing to do, is only checked."""
    serving = {name: current(app) for name, app in apps.items()}
    app1, app2 = apps["asgi-cluster-app1"], apps["asgi-cluster-app2"]
    app1_pid = main_pid(app1, unit(app1))
    app2.run_expect([0], "systemctl stop %s %s && rm -rf \"$(readlink -f /opt/example/current)\""
                    % (unit(app2, "socket"), unit(app2)))
    # The same source as release 3, which both hosts served: the same release id.
    result = deploy(extra_vars={"app_src": release_src(tmp_path, "3")})
    assert result.returncode == 0, why(result)
    assert {name: current(app) for name, app in apps.items()} == serving
    assert task_results(result.stdout, "Resolve the requirements once") == ["skipping"], result.stdout[-3000:]
    assert task_results(result.stdout, "Take the resolved set from a host that built") == ["ok"], result.stdout[-3000:]
    lock = "/opt/example/current/requirements.lock"
    assert app2.file(lock).content_string == app1.file(lock).content_string
    freeze = "/opt/example/current/venv/bin/python -c \"%s\"" % FREEZE
    assert app2.check_output(freeze) == app1.check_output(freeze)
    assert switched_hosts(result.stdout) == {"asgi-cluster-app2"}
    assert app2.service(unit(app2)).is_running
    assert main_pid(app1, unit(app1)) == app1_pid
    assert probe_hosts(host) == set(APPS)


def test_listen_port_taken_fails_before_any_change(host, apps, fault):
    fault.fault, fault.expected = "new app_tcp_port already in use on app1", "refused before any change; still serving"
    app1 = apps["asgi-cluster-app1"]
    serving = {name: current(app) for name, app in apps.items()}
    pids = {name: main_pid(app, unit(app)) for name, app in apps.items()}
    app1.run_expect([0], "systemd-run --unit asgi-squatter python3 -m http.server 8765 --bind 0.0.0.0")
    try:
        assert wait_for(lambda: app1.socket("tcp://0.0.0.0:8765").is_listening, 120)
        result = deploy(extra_vars={"app_tcp_port": 8765})
    finally:
        app1.run("systemctl stop asgi-squatter")
    assert result.returncode != 0
    assert "8765" in why(result), why(result)
    assert {name: current(app) for name, app in apps.items()} == serving
    assert {name: main_pid(app, unit(app)) for name, app in apps.items()} == pids
    assert probe(host, *URL, "--count", "20")["failed"] == 0
    fault.observed = "refused: %s" % next(line for line in why(result).splitlines() if "8765" in line)[:160]


def test_rollback_returns_every_host_to_the_previous_release(host, apps, db):
    serving = {name: current(app) for name, app in apps.items()}
    previous = {name: os.path.basename(app.file("/opt/example/previous").linked_to) for name, app in apps.items()}
    running = loop(host)
    result = deploy("playbooks/rollback.yml")
    summary = running.stop()
    report("rollback", summary)
    assert result.returncode == 0, why(result)
    assert summary["failed"] == 0, summary
    assert not set(summary["posted_ids"]) - stored_ids(db)
    assert {name: current(app) for name, app in apps.items()} == previous
    assert set(previous.values()).isdisjoint(serving.values())


HISTORY = "/var/lib/asgi-deploy/example/history.jsonl"


def database_dump(db):
    """The app's database as SQL, as its digest: equal digests, equal schema and rows. Without the
    \\restrict lines, whose key pg_dump makes up anew on every run."""
    return db.check_output("runuser -u postgres -- pg_dump --format=plain app | grep -v -E '^.(un)?restrict ' | sha256sum")


def item_columns(db):
    return db.check_output("runuser -u postgres -- psql -tA -d app -c "
                           "\"select column_name from information_schema.columns where table_name = 'items'\"").split()


def test_a_dropped_column_comes_back_from_the_database_snapshot(host, apps, db, tmp_path, fault):
    fault.fault = "a release whose migration drops a column of data; a full backup disk on the db host; a restore"
    fault.expected = "full disk: refused before the migration; then 0 failed reads, and the restore returns the rows"
    serving = {name: current(app) for name, app in apps.items()}
    assert probe(host, *URL, "--post-every", "1", "--count", "5")["failed"] == 0
    before = database_dump(db)
    src = app_dropping_names(tmp_path)

    snapshots = apps[APPS[0]].run("ls /var/backups/asgi-deploy/example/app").stdout
    full = deploy_with_a_full_backup_disk(db, {"app_src": src})
    assert full.returncode != 0
    # The app host's part of that snapshot went with the database's.
    assert apps[APPS[0]].run("ls /var/backups/asgi-deploy/example/app").stdout == snapshots
    assert "asgi-cluster-db: not enough room in /var/backups/asgi-deploy/example/postgresql" in full.stdout, why(full)
    assert "the migration did not run" in full.stdout and database_dump(db) == before
    assert {name: current(app) for name, app in apps.items()} == serving

    readers = BackgroundLoop(host, *URL, "--concurrency", "2", "--count", "100000", "--interval", "0.04",
                             "--duration", "600")
    try:
        dropped = deploy(extra_vars={"app_src": src})
    finally:
        summary = readers.stop()
    report("release dropping a column", summary)
    assert dropped.returncode == 0, why(dropped)
    assert summary["failed"] == 0 and summary["sent"] > 50, summary
    new = current(apps[APPS[0]])
    name, parts = snapshot_lines(dropped)
    assert name and name.endswith("-" + new) and re.fullmatch(r"postgresql app: [\d.]+ [KM]iB in [\d.]+ s", parts[-1]), parts
    assert "name" not in item_columns(db)
    assert db.file("/var/backups/asgi-deploy/example/postgresql/%s/postgresql.dump" % name).mode == 0o600

    # One host without the release to go back to: the restore stops on every
    # host, changing nothing, and each host's history names app2's cause.
    app2, kept = apps[APPS[1]], "/opt/example/releases/%s" % serving[APPS[1]]
    app2.run_expect([0], "mv %s %s.away" % (kept, kept))
    try:
        refused = deploy("playbooks/restore.yml", extra_vars={"app_restore_before": new, "confirm": "yes"})
    finally:
        app2.run_expect([0], "mv %s.away %s" % (kept, kept))
    assert refused.returncode != 0 and "'ansible_failed_task' is undefined" not in refused.stdout, why(refused)
    assert "name" not in item_columns(db) and {name: current(app) for name, app in apps.items()} == dict.fromkeys(APPS, new)
    for app in apps.values():
        last = json.loads(app.file(HISTORY).content_string.splitlines()[-1])
        assert (last["action"], last["result"]) == ("restore", "failed"), last
        assert last["step"].startswith("asgi-cluster-app2: Release %s, which served when snapshot" % serving[APPS[1]]), last

    restored = deploy("playbooks/restore.yml", extra_vars={"app_restore_before": new, "confirm": "yes"})
    assert restored.returncode == 0, why(restored)
    assert database_dump(db) == before and "name" in item_columns(db)
    assert {name: current(app) for name, app in apps.items()} == serving
    assert set(probe(host, *URL, "--count", "10")["releases"]) == set(serving.values())
    fault.observed = "full disk refused, dump unchanged; %d reads, 0 failed; restored dump identical" % summary["sent"]


def test_a_limit_that_leaves_out_the_hosts_a_firewall_admits_is_refused(host, apps, db):
    """--limit db: the db host's firewall admits the app hosts by addresses
    only a run that includes them reads; rewritten without them, the app
    would lose its database."""
    rules = db.file("/etc/asgi-deploy/firewall.nft").sha256sum
    result = deploy(args=["--limit", "db"])
    assert result.returncode != 0
    assert ("The firewall of asgi-cluster-db admits asgi-cluster-app1, asgi-cluster-app2 by their addresses, but "
            "this run leaves them out (--limit)") in result.stdout, why(result)
    assert db.file("/etc/asgi-deploy/firewall.nft").sha256sum == rules
    assert flows(host, apps, db) == EXPECTED_FLOWS


def test_database_down_at_deploy_time(host, apps, db, tmp_path, fault):
    fault.fault, fault.expected = "database unreachable at deploy", "clear failure, no host switched"
    serving = {name: current(app) for name, app in apps.items()}
    pids = {name: main_pid(app, unit(app)) for name, app in apps.items()}
    db.run_expect([0], "systemctl stop postgresql")
    try:
        # As when the database is not this playbook's to manage (a hosted one):
        # the db play would start PostgreSQL again. Without the db host in the
        # run there is no snapshot of its database: app_backup=false says so.
        result = deploy(extra_vars={"app_src": app_copy(tmp_path, write={"VERSION": "db-down\n"}), "app_backup": False},
                        args=["--limit", "app,edge"])
    finally:
        db.run_expect([0], "systemctl start postgresql")
    assert result.returncode != 0
    # The new release's health path reads the database: its preflight fails
    # first, with the database's error, before the migration would.
    assert "Connection refused" in result.stdout, why(result)
    assert "no user request reached the new one" in result.stdout or "no host was switched" in result.stdout
    assert {name: current(app) for name, app in apps.items()} == serving
    assert {name: main_pid(app, unit(app)) for name, app in apps.items()} == pids
    assert wait_for(lambda: probe(host, *URL, "--count", "5")["failed"] == 0, 300)
    fault.observed = "%s: Connection refused; no host switched, serving after the database is back" % (
        "preflight failed" if "no user request reached" in result.stdout else "migration failed")


def docker(*args):
    subprocess.run(["docker"] + list(args), check=True, capture_output=True, timeout=180)


def test_fleet_reboot_database_last(host, apps, db, fault):
    fault.fault = "every host rebooted, database last"
    fault.expected = "all back without Ansible; apps wait for the database"
    start = time.monotonic()
    # Apps and edge boot while the database is still down; their services must
    # not give up, and serving resumes by itself once it is back.
    docker("stop", "--time", "30", "asgi-cluster-db")
    docker("restart", "--time", "30", "asgi-cluster-edge", *APPS)
    for node in [host] + list(apps.values()):
        assert wait_for(lambda: booted(node), 300)
    booted_at = time.monotonic() - start
    items = ["--url", "https://localhost/items", "--cacert", CADDY_ROOT_ON_HOST]
    assert probe(host, *items, "--count", "1", "--timeout", "5")["failed"] == 1
    docker("start", "asgi-cluster-db")
    assert wait_for(lambda: booted(db), 300)
    db_at = time.monotonic() - start
    assert wait_for(lambda: probe(host, *items, "--count", "10")["failed"] == 0, 300)
    serving_at = time.monotonic() - start
    for app in apps.values():
        assert app.service(unit(app)).is_running
        assert app.check_output("systemctl show -p NRestarts --value %s" % unit(app)) == "0"
    assert wait_for(lambda: probe_hosts(host) == set(APPS), 300)
    # The firewalls came back with the hosts, before anything listened.
    assert flows(host, apps, db) == EXPECTED_FLOWS
    print("fleet reboot: apps+edge up %.1fs, database up %.1fs, /items through the edge %.1fs"
          % (booted_at, db_at, serving_at))
    fault.observed = "apps up at %.0f s with no database, db at %.0f s, serving at %.0f s, 0 app restarts" % (
        booted_at, db_at, serving_at)


def test_old_releases_go_and_those_a_restore_starts_stay(apps):
    """After the scenario's dozen releases, each app host keeps the newest
    (app_keep_releases, 5 by default), the one serving, and every release a
    snapshot would go back to (the snapshots are on the host that migrated);
    nothing else."""
    restorable = set()
    for app in apps.values():
        for path in app.run("ls /var/backups/asgi-deploy/example/app/*/manifest.json").stdout.split():
            restorable.add(json.loads(app.file(path).content_string)["serving"])
    # The first release's snapshot goes back to no release ("").
    restorable.discard("")
    assert restorable
    for name, app in apps.items():
        releases = app.check_output("ls -1t /opt/example/releases").split()
        assert restorable <= set(releases) and current(app) in releases, (name, releases, restorable)
        assert set(releases) <= set(releases[:5]) | {current(app)} | restorable, (name, releases, restorable)
