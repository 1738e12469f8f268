"""Each bad input fails site.yml with a message naming the variable and what
it allows, before anything on the host changes, while the app that converge
deployed keeps answering. Prints a summary table."""
import atexit
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgi_testlib import CADDY_ROOT_ON_HOST, PROJECT, deploy, healthy, install_probe, probe


# The changed fixture projects: made when the cases are collected, removed when the run ends.
COPIES = tempfile.mkdtemp(prefix="asgi-validation-")
atexit.register(shutil.rmtree, COPIES, True)


def project_copy(name, old, new, path="pyproject.toml"):
    """A fixture project of tests/apps with one file changed, as a user's mistake would leave it."""
    dest = os.path.join(tempfile.mkdtemp(dir=COPIES), name)
    shutil.copytree(os.path.join(PROJECT, "tests", "apps", name), dest)
    target = os.path.join(dest, path)
    with open(target) as handle:
        text = handle.read()
    assert old in text
    with open(target, "w") as handle:
        handle.write(text.replace(old, new))
    return dest


# A dependency added to pyproject.toml without running `uv lock`.
STALE_LOCK = project_copy("monorepo", '["starlette>=0.37"]', '["starlette>=0.37", "idna"]', "backend/pyproject.toml")
# A dependency's range changed in pyproject.toml without running `poetry lock`.
STALE_POETRY = project_copy("poetry", 'requires-python = ">=3.11"', 'requires-python = ">=3.11,<4"')
# A pip-tools file whose one package lost its hashes: no longer a lock.
UNHASHED_LINE = project_copy(
    "hashed", "anyio==4.16.0 \\\n    --hash=sha256:59bb03251907983d1603d27c3087ddb1e93299ea2163adcdba37899a4fb12ffb \\\n"
              "    --hash=sha256:c66ae634e0b8228396b801741beb3294326d4b6102f7bba4041c0dfb58c29026\n",
    "anyio==4.16.0\n", "requirements.txt")
# A project that needs a Python no test host has.
FUTURE_PYTHON = project_copy("poetry", 'requires-python = ">=3.11"', 'requires-python = ">=3.99"')

# What a deploy would change: packages, accounts, units, release and config
# folders, Caddy's files, the claims, the release and the slot serving. Names and
# contents, not times: Caddy and PostgreSQL run and touch their folders.
STATE = ("(dpkg-query -W -f '${Package} ${Version}\\n'; getent passwd; getent group; "
         "ls -1a /opt /opt/example/releases /etc/systemd/system /etc /var/lib /etc/asgi-deploy /etc/asgi-deploy/apps; "
         "md5sum /etc/caddy/Caddyfile /etc/caddy/sites.d/* /etc/systemd/system/example@* /etc/asgi-deploy/apps/* /etc/example/*.env; "
         "readlink /opt/example/current /run/example/example.sock) 2>&1 | md5sum")
SOCKET = "/run/example/example.sock"
# Another site of the same host, for the cases that add one.
SITE = {"domains": ["localhost"], "tls": "internal"}

CASES = [
    ("ASGI target without ':'", {"app_module": "app.main"}, ["app_module", "module:attribute"]),
    ("source folder that does not exist", {"app_src": "/nonexistent/app"}, ["app_src", "does not exist"]),
    ("worker count of 0", {"app_workers": 0}, ["app_workers", "'auto' or a whole number"]),
    ("worker count not a number", {"app_workers": "lots"}, ["app_workers", "'auto' or a whole number"]),
    ("per-worker budget of 0", {"app_per_worker_mb": 0}, ["app_per_worker_mb", "greater than 0"]),
    ("negative per-worker budget", {"app_per_worker_mb": -64}, ["app_per_worker_mb", "greater than 0"]),
    ("per-worker budget larger than the host", {"app_per_worker_mb": 65536},
     ["per_worker_mb", "do not fit", "the host has 1024 MiB"]),
    ("utilization above 1", {"app_utilization": 1.5}, ["app_utilization", "(0, 1]"]),
    ("app name with spaces", {"app_name": "My App"}, ["app_name", "lower-case"]),
    ("environment name with a dash", {"app_env": {"BAD-KEY": "x"}}, ["app_env", "BAD-KEY"]),
    ("secret left empty", {"app_secret_env": {"API_TOKEN": ""}}, ["app_secret_env", "API_TOKEN"]),
    ("secret file named like a path", {"app_secret_files": {"../key.pem": "x"}}, ["app_secret_files", "../key.pem"]),
    ("secret file from a controller file that is not there",
     {"app_secret_files": {"key.pem": {"src": "/nonexistent/key.pem"}}},
     ["app_secret_files: key.pem names /nonexistent/key.pem, which is not a file on the controller"]),
    ("environment value that is a mapping", {"app_env": {"OPTS": {"a": 1}}}, ["app_env", "OPTS", "Python's repr"]),
    ("environment name the collection sets", {"app_env": {"ASGI_DEPLOY_WORKERS": "9"}},
     ["app_env", "ASGI_DEPLOY_WORKERS", "ASGI_DEPLOY_ names the collection sets"]),
    ("working directory not in the source", {"app_workdir": "no/such/dir"},
     ["app_workdir must be a folder of the app", "'no/such/dir' does not exist"]),
    ("health path without '/'", {"app_health_path": "health"}, ["app_health_path", "starting with '/'"]),
    ("unknown log level", {"app_log_level": "loud"}, ["app_log_level", "critical, error"]),
    ("access log that is not a boolean", {"app_access_log": "sometimes"}, ["app_access_log", "bool"]),
    ("one release kept", {"app_keep_releases": 1}, ["app_keep_releases", "at least 2"]),
    ("worker healthcheck bound of 0", {"app_worker_healthcheck_timeout": 0},
     ["app_worker_healthcheck_timeout must be at least 1 second, got 0"]),
    ("no rolled access log kept", {"caddy_access_log_roll_keep": 0},
     ["caddy_access_log_roll_keep must be a whole number of 1 or more, got 0"]),
    ("Caddy's threads below 0", {"caddy_gomaxprocs": -1},
     ["caddy_gomaxprocs must be 0 (the role sets Caddy's share of the CPUs) or a whole number of threads of 1 or "
      "more, got -1"]),
    ("SQLite database outside the state directory", {"app_sqlite_databases": ["/srv/data/app.db"]},
     ["app_sqlite_databases", "relative to the state directory /var/lib/example"]),
    ("SQLite database path climbing out", {"app_sqlite_databases": ["../example.db"]},
     ["app_sqlite_databases", "without '..'"]),
    ("backup command without a restore command", {"app_backup_command": "tar -c uploads"},
     ["app_backup_command and app_restore_command go together"]),
    ("relative backup folder", {"app_backup_dir": "backups"}, ["app_backup_dir", "an absolute path"]),
    ("TCP port out of range", {"app_tcp_port": 70000}, ["app_tcp_port", "1-65535"]),
    ("timeout that is not a number", {"app_graceful_timeout": "soon"}, ["app_graceful_timeout", "int"]),
    ("domain name that is not one", {"caddy_sites": [{"domains": ["not a domain!"], "tls": "internal"}]},
     ["caddy_sites[0].domains", "not a domain name"]),
    ("unknown TLS mode", {"caddy_sites": [{"domains": ["example.com"], "tls": "letsencrypt"}]},
     ["tls", "acme, internal, files"]),
    ("unknown key in a site (typo)", {"caddy_sites": [{"domain": ["example.com"]}]},
     ["caddy_sites", "domain"]),
    ("ACME email that is not one", {"caddy_acme_email": "ops-at-example.com"}, ["caddy_acme_email", "email address"]),
    ("upstream that is not host:port", {"caddy_sites": [{"domains": ["example.com"], "upstreams": ["http//app"]}]},
     ["caddy_sites[0] upstream", "host:port or unix//path"]),
    ("unknown load-balancing policy", {"caddy_lb_policy": "fastest"}, ["caddy_lb_policy", "round_robin"]),
    ("files TLS without a certificate", {"caddy_sites": [{"domains": ["example.com"], "tls": "files"}]},
     ["tls: files", "tls_cert"]),
    ("database password left empty", {"postgresql_password": ""}, ["postgresql_password", "required"]),
    ("database name that is not an identifier", {"postgresql_database": "my-db"}, ["postgresql_database", "identifier"]),
    ("uv.lock older than its pyproject.toml", {"app_src": STALE_LOCK, "app_subdir": "backend",
                                               "app_module": "greeter.api:app"},
     ["uv.lock is stale", "uv lock"]),
    ("poetry.lock older than its pyproject.toml", {"app_src": STALE_POETRY, "app_module": "shop.main:app"},
     ["poetry.lock is stale", "poetry lock"]),
    ("requires-python no host has", {"app_src": FUTURE_PYTHON, "app_module": "shop.main:app"},
     ["requires Python >=3.99", "has Python 3.", "app_python"]),
    ("a Python the host does not have", {"app_python": "python3.99"}, ["app_python 'python3.99' does not run"]),
    ("lock required, none there", {"app_lock": "required"}, ["app_lock is 'required'", "requirements.txt"]),
    ("lock required, a requirements line without hashes", {"app_src": UNHASHED_LINE, "app_module": "api:app",
                                                           "app_lock": "required"},
     ["app_lock is 'required'", "pins every package with its hashes", "--generate-hashes"]),
    ("unknown lock mode", {"app_lock": "always"}, ["app_lock", "auto, none, required"]),
    ("pip's options for uv", {"app_pip_extra_args": ["--no-cache-dir"]}, ["app_pip_extra_args", "app_uv_extra_args"]),
    ("the index's old names", {"app_pip_index_url": "https://user:token@mirror.example/simple",
                               "app_pip_ca_bundle": "/etc/ssl/mirror.pem"},
     ["app_pip_index_url is now app_package_index_url", "app_pip_ca_bundle is now app_package_index_ca_bundle"]),
    ("uv version that is not a release", {"app_uv_version": "latest"}, ["app_uv_version", "0.13.9"]),
    ("app named root", {"app_name": "root"}, ["app_name 'root' is an existing user (id 0)"]),
    ("app named like Caddy's account", {"app_name": "caddy"}, ["app_name 'caddy' is Caddy's"]),
    ("app named like PostgreSQL's account", {"app_name": "postgres"}, ["app_name 'postgres' is PostgreSQL's"]),
    ("app named like a system account", {"app_name": "www-data"}, ["app_name 'www-data' is an existing user"]),
    ("socket group that is a system group", {"app_socket_group": "sudo"}, ["app_socket_group 'sudo' is an existing group"]),
    ("second app taking the first's own group as its socket group", {"app_name": "second", "app_socket_group": "example"},
     ["app_socket_group 'example' is a name of app 'example'"]),
    # One worker: it fits beside example on 1 GiB, so the sites are what is refused.
    ("second app on the first's domain", {"app_name": "second", "app_workers": 1},
     ["caddy_sites[0].domains: 'localhost' of app 'second' is already served by app 'example'"]),
    ("listen port that Caddy needs", {"app_tcp_port": 443}, ["app_tcp_port 443 is a port Caddy needs"]),
    ("listen port PostgreSQL uses", {"app_tcp_port": 5432}, ["app_tcp_port 5432 is in use on this host by", "postgres"]),
    ("explicit workers far beyond memory", {"app_workers": 500},
     ["app_workers=500 do not fit", "the host has 1024 MiB", "app_allow_overcommit"]),
    ("no sites at all", {"caddy_sites": []}, ["caddy_sites is empty"]),
    ("upstream of port 0", {"caddy_sites": [dict(SITE, upstreams=["127.0.0.1:0"])]},
     ["caddy_sites[0] upstream '127.0.0.1:0' has port 0"]),
    ("same variable in both environment maps", {"app_env": {"DB_HOST": "a"}, "app_secret_env": {"DB_HOST": "b"}},
     ["app_env and app_secret_env both set DB_HOST"]),
    ("one domain in two sites", {"caddy_sites": [SITE, dict(SITE, upstreams=["127.0.0.1:9000"])]},
     ["caddy_sites[1].domains: 'localhost' is already served by caddy_sites[0]"]),
    ("site snippet Caddy refuses", {"caddy_sites": [dict(SITE, extra="no_such_directive on")]},
     ["Caddy refuses the Caddyfile", "no_such_directive"]),
    ("global option Caddy refuses", {"caddy_global_extra": "no_such_option 1"},
     ["Caddy refuses the Caddyfile", "no_such_option"]),
    ("sub-folder outside the source", {"app_subdir": "../.."}, ["app_subdir", "without '..'"]),
    # The container has no CAP_NET_ADMIN and converge ran with asgi_firewall false.
    ("firewall on a host that may not have one", {"asgi_firewall": True},
     ["may not change the firewall", "no CAP_NET_ADMIN", "asgi_firewall=false"]),
    ("firewall port out of range", {"asgi_firewall": True, "firewall_rules": [{"port": 70000}]},
     ["firewall_rules[0].port is 70000", "ports from 1 to 65535"]),
    ("firewall source that is not an address", {"asgi_firewall": True,
                                                "firewall_rules": [{"port": 9100, "from": ["office"]}]},
     ["firewall_rules[0].from has 'office'", "address or CIDR"]),
    ("firewall source as a string, not a list", {"asgi_firewall": True,
                                                 "firewall_rules": [{"port": 9100, "from": "10.0.0.1"}]},
     ["firewall_rules[0].from is '10.0.0.1'", "a list of addresses"]),
    ("firewall flow with an unknown key (typo)", {"asgi_firewall": True,
                                                  "firewall_rules": [{"ports": 9100}]},
     ["firewall_rules[0] has ports", "only port, proto, from, comment"]),
]
RESULTS = []


@pytest.fixture(scope="module")
def baseline(host):
    install_probe(host)
    assert serving(host)
    return host.check_output(STATE)


def serving(host):
    """The example app answers on its socket and through Caddy."""
    through_caddy = probe(host, "--url", "https://localhost/health", "--cacert", CADDY_ROOT_ON_HOST, "--count", "1")
    return healthy(host, SOCKET) and through_caddy["failed"] == 0


@pytest.fixture(scope="module")
def outcomes(host, baseline):
    """Every case's run, three at a time (each must stop in the first play, which only reads the
    host), then the host's state and the app's answer once: a case that changed something or took
    the app down fails every case's test, and the table names no single culprit."""
    with ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(lambda case: deploy(extra_vars=case[1], timeout=300), CASES))
    return dict(zip([case[0] for case in CASES], runs)), host.check_output(STATE) == baseline, serving(host)


@pytest.mark.parametrize("case, expected", [(case[0], case[2]) for case in CASES],
                         ids=[case[0] for case in CASES])
def test_bad_input_fails_early_and_changes_nothing(outcomes, case, expected):
    runs, unchanged, answering = outcomes
    result = runs[case]
    named = [word for word in expected if word not in result.stdout]
    RESULTS.append((case, "fails, names %s" % expected[0][:30],
                    "rc=%d, %s, host %s, app %s" % (result.returncode, "named" if not named else "MISSING %s" % named,
                                                    "unchanged" if unchanged else "CHANGED",
                                                    "answering" if answering else "DOWN")))
    assert result.returncode != 0
    assert not named, result.stdout[-2500:]
    assert unchanged
    assert answering


def test_summary_table():
    """Printed last: input case, expected, observed."""
    width = max(len(row[0]) for row in RESULTS)
    print("\n%-*s | %-32s | %s" % (width, "bad input", "expected", "observed"))
    for row in RESULTS:
        print("%-*s | %-32s | %s" % (width, row[0], row[1], row[2]))
    assert len(RESULTS) == len(CASES) >= 45
