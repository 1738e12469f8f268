"""The smallest host: 512 MiB, where not even one worker each fits beside a
new release. Runs last (file order): the app keeps its one worker."""
import re

from asgi_testlib import (CADDY_ROOT_ON_HOST, BackgroundLoop, app_copy, deploy, healthy, live_unit, resize, row_ids, why,
                          worker_pids)

APP = "example"
SOCKET = "/run/%s/%s.sock" % (APP, APP)
# The container's limit, from molecule.yml.
CONTAINER_MEMORY_MB = 2048
# Users through Caddy: GETs, and every fourth request a POST that writes a row.
CLIENTS = 2
# The longest hold the test accepts; a client gives up no sooner (the
# probe's own 30 s would count a slow runner's longer start as a failure).
WAIT_BOUND_SEC = 60
USERS = ("--url", "https://localhost/", "--cacert", CADDY_ROOT_ON_HOST, "--post-every", "4",
         "--concurrency", str(CLIENTS), "--interval", "0.05", "--count", "100000", "--duration", "600",
         "--timeout", str(WAIT_BOUND_SEC))


def unit(host):
    return live_unit(host, APP)


def stored_ids(host):
    return row_ids(host, "python3 -c \"import sqlite3; [print(r[0]) for r in "
                         "sqlite3.connect('/var/lib/%s/example.db').execute('select id from items')]\"" % APP)


def test_a_host_too_small_for_two_releases_holds_requests_on_the_host(host, tmp_path, fault):
    """512 MiB: one worker, and no room for a second beside it. The serving
    release stops first; new requests queue on the host's hold socket until
    the new one serves, and the deploy says how long they were held. A
    release whose health path answers 500 gives them back to the old one.
    The edge's dial never fails, so Caddy 2.6 never has to send a POST's
    body again (caddyserver/caddy#7546): no request of either method fails,
    and exactly the acknowledged POSTs wrote rows."""
    fault.fault = "a restart and a release answering 500 on 512 MiB, where not one worker each fits"
    fault.expected = ("serving release stops first; requests held on the host, then served by the new release or the "
                      "old one again; 0 failed of either method; every acknowledged POST stored; the wait printed")
    resize(host, 512)
    try:
        # Sized for the host first, as a VM of that size would be: the 4
        # workers sized for 2 GiB do not fit in it beside anything else.
        sized = deploy()
        assert sized.returncode == 0, why(sized)
        assert len(worker_pids(host, unit(host))) == 0, "one uvicorn process, no supervisor"
        before = stored_ids(host)
        broken = app_copy(tmp_path, replace={"app/main.py": (
            'return {"status": "ok", "release": RELEASE}', 'raise RuntimeError("health check broken on purpose")')})
        loop = BackgroundLoop(host, *USERS)
        try:
            result = deploy(extra_vars={"app_restart": True})
            unhealthy = deploy(extra_vars={"app_src": broken})
        finally:
            summary = loop.stop()
    finally:
        resize(host, CONTAINER_MEMORY_MB)
    posted = summary.pop("posted_ids")
    print("under load:", summary)
    assert result.returncode == 0, why(result)
    assert "stops first; new requests are held on the host" in result.stdout, why(result)
    waited = re.findall(r"New requests to \S+ were held for ([\d.]+) s", result.stdout)
    assert waited and 0 < float(waited[0]) < WAIT_BOUND_SEC, waited
    assert unhealthy.returncode != 0 and "health check broken on purpose" in unhealthy.stdout, why(unhealthy)
    given_back = re.findall(r"serves again, and took the new requests held for ([\d.]+) s", unhealthy.stdout)
    assert given_back and 0 < float(given_back[0]) < WAIT_BOUND_SEC, why(unhealthy)
    assert summary["sent_by_method"].get("POST", 0) > 10, summary
    assert summary["failed"] == 0, summary
    # Held, not lost: some requests waited through the switch.
    assert summary["max_latency"] > 1, summary
    # Every acknowledged POST stored, and nothing else.
    assert stored_ids(host) - before == set(posted), summary
    assert healthy(host, SOCKET)
    # The hold is gone with the wait.
    assert not host.file("/run/%s/hold.sock" % APP).exists
    assert host.run("systemctl is-active %s-hold.socket" % APP).rc != 0
    fault.observed = ("%d requests (%d POST), 0 failed, worst %.1f s; held %s s by the restart, %s s by the failed "
                      "release" % (summary["sent"], summary["sent_by_method"].get("POST", 0), summary["max_latency"],
                                   waited[0], given_back[0]))
