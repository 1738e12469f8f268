"""The smallest host: 512 MiB, where not even one worker each fits beside a
new release. Runs last (file order): the app keeps its one worker."""
import re

from asgi_testlib import CADDY_ROOT_ON_HOST, BackgroundLoop, deploy, healthy, live_unit, resize, row_ids, why, worker_pids

APP = "example"
SOCKET = "/run/%s/%s.sock" % (APP, APP)
# The container's limit, from molecule.yml.
CONTAINER_MEMORY_MB = 2048
# Users through Caddy: GETs, and every fourth request a POST that writes a row.
CLIENTS = 2
# The longest wait at the edge the test accepts; a client gives up no sooner
# (the probe's own 30 s would count a slow runner's longer start as a failure).
WAIT_BOUND_SEC = 60
USERS = ("--url", "https://localhost/", "--cacert", CADDY_ROOT_ON_HOST, "--post-every", "4",
         "--concurrency", str(CLIENTS), "--interval", "0.05", "--count", "100000", "--duration", "600",
         "--timeout", str(WAIT_BOUND_SEC))


def unit(host):
    return live_unit(host, APP)


def stored_ids(host):
    return row_ids(host, "python3 -c \"import sqlite3; [print(r[0]) for r in "
                         "sqlite3.connect('/var/lib/%s/example.db').execute('select id from items')]\"" % APP)


def test_a_host_too_small_for_two_releases_holds_requests_at_the_edge(host, fault):
    """512 MiB: one worker, and no room for a second beside it. The serving
    release stops first; the edge holds new requests until the new one
    serves, and the deploy says how long they waited. Debian's Caddy (2.6)
    cannot replay a request body after a failed dial (caddyserver/caddy#7546,
    fixed in 2.11): a POST held through the wait is answered 502, and never
    reaches the app. So: no GET fails, at most one POST per client fails, as
    a 502, and exactly the acknowledged POSTs wrote rows."""
    fault.fault = "restart on 512 MiB, where not one worker each fits"
    fault.expected = ("serving release stops first; requests wait at the edge; 0 GET failed; a held POST at most "
                      "502 (Caddy 2.6), never applied; the wait printed")
    resize(host, 512)
    try:
        # Sized for the host first, as a VM of that size would be: the 4
        # workers sized for 2 GiB do not fit in it beside anything else.
        sized = deploy()
        assert sized.returncode == 0, why(sized)
        assert len(worker_pids(host, unit(host))) == 0, "one uvicorn process, no supervisor"
        before = stored_ids(host)
        loop = BackgroundLoop(host, *USERS)
        try:
            result = deploy(extra_vars={"app_restart": True})
        finally:
            summary = loop.stop()
    finally:
        resize(host, CONTAINER_MEMORY_MB)
    posted = summary.pop("posted_ids")
    print("under load:", summary)
    assert result.returncode == 0, why(result)
    assert "stops first, and the edge holds new requests" in result.stdout, why(result)
    waited = re.findall(r"New requests to \S+ waited at the edge for ([\d.]+) s", result.stdout)
    assert waited and 0 < float(waited[0]) < WAIT_BOUND_SEC, waited
    assert summary["sent_by_method"].get("POST", 0) > 10, summary
    failed_posts = summary["failed_by_method"].get("POST", 0)
    assert summary["failed"] == failed_posts <= CLIENTS, summary
    assert summary["errors"] in ({}, {"POST status 502": failed_posts}), summary
    # Every acknowledged POST stored, and nothing else: a refused one never ran.
    assert stored_ids(host) - before == set(posted), summary
    assert healthy(host, SOCKET)
    fault.observed = ("%d requests (%d POST), %d failed (POST 502, not applied), worst %.1f s; the deploy said they "
                      "waited %s s" % (summary["sent"], summary["sent_by_method"].get("POST", 0), summary["failed"],
                                       summary["max_latency"], waited[0]))
