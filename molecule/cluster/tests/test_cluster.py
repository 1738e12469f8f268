"""A fleet behind one edge: balancing, migrations exactly once, rolling deploys
with zero failed requests, a failed migration and a failed health check that
change nothing, a stopped app host, and rollback. Tests run in file order."""
import os

import pytest
from asgi_testlib import BackgroundLoop, app_copy, deploy, main_pid, other_host, probe, why

APPS = ["asgi-cluster-app1", "asgi-cluster-app2"]
ROOT = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt"
URL = ["--url", "https://localhost/", "--cacert", ROOT]


@pytest.fixture(scope="module")
def apps():
    return {name: other_host(name) for name in APPS}


@pytest.fixture(scope="module")
def db():
    return other_host("asgi-cluster-db")


def current(app):
    return os.path.basename(app.file("/opt/example/current").linked_to)


def migration_runs(db):
    return int(db.check_output(
        "runuser -u postgres -- psql -tA -d app -c 'select count(*) from migration_runs'"))


def loop(host):
    return BackgroundLoop(host, *URL, "--count", "100000", "--interval", "0.02", "--duration", "600")


def report(what, summary):
    print("%s: sent %d, failed %d, retried by the client %d, worst %.2fs"
          % (what, summary["sent"], summary["failed"], summary["retried"], summary["max_latency"] or 0))


def test_edge_balances_across_both_app_hosts(host):
    summary = probe(host, *URL, "--count", "60")
    assert summary["failed"] == 0, summary
    hosts = probe_hosts(host)
    assert hosts == set(APPS), hosts


def probe_hosts(host):
    out = host.check_output("for i in $(seq 1 20); do python3 -c \"import json,ssl,urllib.request;"
                            "print(json.load(urllib.request.urlopen('https://localhost/', "
                            "context=ssl.create_default_context(cafile='%s')))['host'])\"; done" % ROOT)
    return set(out.split())


def test_migration_ran_exactly_once(host, db):
    # converge and the idempotence run, two app hosts, serial 1
    assert migration_runs(db) == 1


def test_database_listens_only_for_the_app_hosts(host, db):
    hba = db.check_output("cat /etc/postgresql/*/main/pg_hba.conf")
    rules = [line.split() for line in hba.splitlines() if line.split()[:3] == ["host", "app", "app"]]
    assert len(rules) == 2 and all(rule[-1] == "scram-sha-256" for rule in rules), rules
    listen = db.check_output("cat /etc/postgresql/*/main/conf.d/asgi-deploy.conf")
    assert "'*'" not in listen and "0.0.0.0" not in listen


def test_rolling_deploy_drops_no_request(host, apps, db, tmp_path):
    before = {name: current(app) for name, app in apps.items()}
    running = loop(host)
    src = app_copy(tmp_path, write={"VERSION": "2\n"})
    result = deploy(extra_vars={"app_src": src})
    summary = running.stop()
    report("rolling deploy of release 2", summary)
    assert result.returncode == 0, why(result)
    assert summary["failed"] == 0, summary
    after = {name: current(app) for name, app in apps.items()}
    assert len(set(after.values())) == 1 and set(after.values()).isdisjoint(before.values())
    assert migration_runs(db) == 2


def test_failed_migration_restarts_nothing(host, apps, db, tmp_path):
    serving = {name: current(app) for name, app in apps.items()}
    pids = {name: main_pid(app, "example.service") for name, app in apps.items()}
    runs = migration_runs(db)
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
    assert {name: main_pid(app, "example.service") for name, app in apps.items()} == pids
    # It ran once and failed; what earlier migrations wrote is intact.
    assert migration_runs(db) == runs + 1
    assert db.check_output("runuser -u postgres -- psql -tA -d app -c 'select version_num from alembic_version'") == "0001"
    assert db.check_output("runuser -u postgres -- psql -tA -d app -c 'select count(*) from items'") == "2"


def test_failed_health_check_on_app1_leaves_app2_alone(host, apps, tmp_path):
    serving = {name: current(app) for name, app in apps.items()}
    app2_pid = main_pid(apps["asgi-cluster-app2"], "example.service")
    running = loop(host)
    src = app_copy(tmp_path, replace={"app/main.py": (
        'def health():\n',
        'def health():\n    if socket.gethostname() == "asgi-cluster-app1":\n'
        '        raise RuntimeError("unhealthy on app1 on purpose")\n')})
    result = deploy(extra_vars={"app_src": src, "app_health_timeout": 10})
    summary = running.stop()
    report("release failing its health check on app1", summary)
    assert result.returncode != 0
    assert "Rolled back to release %s" % serving["asgi-cluster-app1"] in result.stdout
    assert summary["failed"] == 0, summary
    assert {name: current(app) for name, app in apps.items()} == serving
    assert main_pid(apps["asgi-cluster-app2"], "example.service") == app2_pid


def test_stopped_app_host_is_routed_around(host, apps):
    app2 = apps["asgi-cluster-app2"]
    # Stopping only the service would not do: its socket would start it again.
    app2.run_expect([0], "systemctl stop example.socket example.service")
    try:
        summary = probe(host, *URL, "--count", "100", "--interval", "0.02")
        report("app2 stopped", summary)
        assert summary["failed"] == 0, summary
        assert probe_hosts(host) == {"asgi-cluster-app1"}
    finally:
        app2.run_expect([0], "systemctl start example.socket example.service")


def test_rollback_returns_every_host_to_the_previous_release(host, apps):
    serving = {name: current(app) for name, app in apps.items()}
    previous = {name: os.path.basename(app.file("/opt/example/previous").linked_to) for name, app in apps.items()}
    running = loop(host)
    result = deploy("playbooks/rollback.yml")
    summary = running.stop()
    report("rollback", summary)
    assert result.returncode == 0, why(result)
    assert summary["failed"] == 0, summary
    assert {name: current(app) for name, app in apps.items()} == previous
    assert set(previous.values()).isdisjoint(serving.values())
