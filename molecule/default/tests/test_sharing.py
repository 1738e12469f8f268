"""Several apps on one host behind one Caddy: each deploy touches only its
own sites, units and memory share; removing one leaves the others serving.
Runs after test_app.py and test_caddy.py (file order): it first removes the
apps those left, then deploys a second copy of the example app, 'notes', with
its own domain, next to 'example'."""
import pytest
from asgi_testlib import CADDY_ROOT_ON_HOST, BackgroundLoop, app_copy, deploy, live_unit, main_pid, why

SITES = "/etc/caddy/sites.d/%s.caddy"
# notes also opens a port of its own: the host's firewall must admit both apps' flows.
NOTES = {"app_name": "notes", "caddy_sites": [{"domains": ["notes.localhost"], "tls": "internal"}],
         "firewall_rules": [{"port": 9100, "from": ["192.0.2.10"], "comment": "metrics"}]}
FIREWALL = "/etc/asgi-deploy/firewall.d/%s.json"
RECORD = "/var/lib/asgi-deploy/_runs/%s.json"
NOTES_RULE = 'ip saddr 192.0.2.10 tcp dport 9100 accept comment "notes: metrics"'

LOAD = ("--cacert", CADDY_ROOT_ON_HOST, "--post-every", "4", "--concurrency", "2", "--interval", "0.04",
        "--count", "100000", "--duration", "600")
# The first app's users keep their connections open between requests, as
# browsers and HTTP libraries do, and never send a request twice: the other
# app's deploys reload Caddy, which closes the connections idle at that moment.
EXAMPLE_LOAD = ("--url", "https://localhost/", "--keep-alive", "--no-retry") + LOAD
NOTES_LOAD = ("--url", "https://notes.localhost/", "--connect", "127.0.0.1") + LOAD


@pytest.fixture(scope="module")
def notes_v2(tmp_path_factory):
    """The variables of notes' second release: a copy of the example app that says VERSION 2."""
    return dict(NOTES, app_src=app_copy(tmp_path_factory.mktemp("notes"), write={"VERSION": "2\n"}))


def input_chain(host):
    return host.check_output("nft list chain inet asgi_deploy input")


def claimed(host, app):
    return host.file("/etc/asgi-deploy/apps/%s.json" % app).exists


def checksum(host, path):
    return host.check_output("sha256sum %s" % path).split()[0]


def ok(summary):
    return summary["failed"] == 0 and summary["ok"] > 20


def stopped(loop):
    """The loop's summary without its list of row ids (long, and not checked here)."""
    summary = loop.stop()
    summary.pop("posted_ids")
    return summary


@pytest.fixture(scope="module")
def alone(host):
    """Only the example app on the host: the apps the earlier tests deployed
    with the role alone are removed (their own test of remove)."""
    for app in ("greeter", "poetry", "hashed"):
        result = deploy("playbooks/remove.yml", extra_vars={"app_name": app})
        assert result.returncode == 0, why(result)
        assert not claimed(host, app) and not host.user(app).exists
        assert not host.file("/etc/systemd/system/%s@blue.service" % app).exists
    assert host.group("asgi-web").exists, "removing an app took the socket group the others share"


def test_a_second_app_gets_its_own_site_and_leaves_the_first_alone(host, alone, notes_v2, fault):
    fault.fault = "a second app deployed onto the host, then a new release of it"
    fault.expected = "first app's site, units and process untouched; 0 failed requests to either"
    example_sites, pid = checksum(host, SITES % "example"), main_pid(host, live_unit(host, "example"))
    example_flows = checksum(host, FIREWALL % "example")
    loop = BackgroundLoop(host, *EXAMPLE_LOAD)
    try:
        first = deploy(extra_vars=NOTES)
        assert first.returncode == 0, why(first)
        notes_loop = BackgroundLoop(host, *NOTES_LOAD, name="asgi-loop-notes")
        try:
            second = deploy(extra_vars=notes_v2)
        finally:
            notes = stopped(notes_loop)
    finally:
        example = stopped(loop)
    assert second.returncode == 0, why(second)
    print("example:", example, "notes:", notes)
    assert ok(example), example
    # Caddy reloaded for notes' new site, and example's clients saw their idle connections close, and reopened them.
    assert example["reopened"] >= 1 and example["retried"] == 0, example
    assert ok(notes), notes
    assert len(notes["releases"]) == 2, notes
    assert checksum(host, SITES % "example") == example_sites
    assert main_pid(host, live_unit(host, "example")) == pid
    assert "notes.localhost" in host.file(SITES % "notes").content_string
    # One table admitting what each app needs; notes' run left example's flows as they were.
    assert checksum(host, FIREWALL % "example") == example_flows
    chain = input_chain(host)
    assert NOTES_RULE in chain and 'tcp dport 443 accept comment "example: HTTPS"' in chain, chain
    fault.observed = ("example (kept-alive, never retried): %d requests, %d connections reopened after a reload; "
                      "notes: %d across its two releases; failed %d and %d") % (
        example["sent"], example["reopened"], notes["sent"], example["failed"], notes["failed"])


def test_the_memory_is_shared_and_a_third_app_that_does_not_fit_changes_nothing(host, fault):
    fault.fault, fault.expected = "third auto app on a host the first two fill", "refused before any change"
    reserved = [int(host.check_output("systemctl show -p MemoryMax --value %s" % live_unit(host, app))) // 2 ** 20
                for app in ("example", "notes")]
    result = deploy(extra_vars={"app_name": "big", "app_per_worker_mb": 256,
                                "caddy_sites": [{"domains": ["big.localhost"], "tls": "internal"}]})
    assert result.returncode != 0
    assert "the other apps on the host reserve %d MiB of it (example %d MiB, notes %d MiB)" % (
        sum(reserved), reserved[0], reserved[1]) in result.stdout, why(result)
    assert not claimed(host, "big") and not host.user("big").exists and not host.file(SITES % "big").exists
    fault.observed = "refused: the others reserve %d MiB; no claim, user or site" % sum(reserved)


def test_a_domain_another_app_serves_is_refused(host, fault):
    fault.fault, fault.expected = "a third app claims the first app's domain", "refused naming both apps, nothing changed"
    result = deploy(extra_vars={"app_name": "clash", "app_workers": 1})
    assert result.returncode != 0
    assert "'localhost' of app 'clash' is already served by app 'example' on this edge" in result.stdout, why(result)
    assert not claimed(host, "clash") and not host.user("clash").exists and not host.file(SITES % "clash").exists
    fault.observed = "refused before the first change, naming clash and example"


def test_the_whole_host_is_idempotent(host, notes_v2):
    """A rerun of either app changes nothing, needs no package index (one nobody answers on: loopback,
    port 9) and, migrating nothing, takes no snapshot."""
    snapshots = host.run("ls /var/backups/asgi-deploy/example/app").stdout
    for extra_vars in ({}, notes_v2):
        again = deploy(extra_vars=dict(extra_vars, app_package_index_url="http://127.0.0.1:9/simple"))
        assert again.returncode == 0 and "changed=0" in again.stdout, why(again)
    assert host.run("ls /var/backups/asgi-deploy/example/app").stdout == snapshots != ""


def test_removing_an_app_leaves_the_other_serving(host, fault):
    fault.fault = "the second app removed under load to the first"
    fault.expected = "its units, site, files and user gone, its data kept; 0 failed requests to the first"
    example_sites = checksum(host, SITES % "example")
    # What site.yml recorded of its last deploy, for its next run's first play.
    assert host.file(RECORD % "notes").mode == 0o600
    loop = BackgroundLoop(host, *EXAMPLE_LOAD)
    try:
        result = deploy("playbooks/remove.yml", extra_vars={"app_name": "notes"})
    finally:
        example = stopped(loop)
    assert result.returncode == 0, why(result)
    print("example:", example)
    assert ok(example), example
    assert example["reopened"] >= 1 and example["retried"] == 0, example
    assert checksum(host, SITES % "example") == example_sites
    assert not host.file(SITES % "notes").exists
    assert not host.file("/etc/systemd/system/notes@blue.service").exists
    assert not host.file("/etc/systemd/system/notes@green.service").exists
    assert not host.file("/opt/notes").exists and not host.file("/etc/notes").exists
    assert not host.file("/usr/local/bin/notes-run").exists
    # Its deploy history goes too, and no lock is left behind.
    assert not host.file("/var/lib/asgi-deploy/notes").exists and not host.file(RECORD % "notes").exists
    assert host.file(RECORD % "example").exists
    assert not host.file("/run/notes").exists and not host.user("notes").exists and not claimed(host, "notes")
    assert host.file("/var/lib/notes/example.db").exists
    # Its firewall flows go; example's stay.
    chain = input_chain(host)
    assert not host.file(FIREWALL % "notes").exists and NOTES_RULE not in chain
    assert 'tcp dport 443 accept comment "example: HTTPS"' in chain, chain
    refused = host.run("python3 /usr/local/bin/asgi_probe.py --url https://notes.localhost/ --connect 127.0.0.1 "
                       "--cacert %s --count 1 --timeout 5" % CADDY_ROOT_ON_HOST)
    assert '"ok": 0' in refused.stdout, refused.stdout
    again = deploy("playbooks/remove.yml", extra_vars={"app_name": "notes"})
    assert again.returncode == 0 and "changed=0" in again.stdout, why(again)
    fault.observed = "%d requests to example during the removal, %d failed; notes' state directory kept" % (
        example["sent"], example["failed"])


def test_remove_needs_the_app_named(host):
    result = deploy("playbooks/remove.yml")
    assert result.returncode != 0 and "Name the app to remove: -e app_name=NAME" in result.stdout, why(result)
    assert claimed(host, "example") and host.service(live_unit(host, "example")).is_running
