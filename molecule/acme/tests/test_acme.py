"""A certificate from a real ACME CA (Pebble) by HTTP-01, verified against the
CA's root, and renewed by Caddy before it expires."""
import time

import pytest
from asgi_testlib import exposure, probe, tls_info, wait_for

NAME = "edge.asgi.test"
PEBBLE_ROOT = "/tmp/pebble-root.pem"


@pytest.fixture
def pebble_root(host):
    """Pebble's root, fetched from its management API over HTTPS (test CA)."""
    host.run_expect([0], "python3 -c \"import ssl, urllib.request; "
                    "open('%s', 'wb').write(urllib.request.urlopen("
                    "'https://ca.asgi.test:15000/roots/0', "
                    "context=ssl.create_default_context(cafile='/etc/caddy/acme-ca-root.pem')).read())\""
                    % PEBBLE_ROOT)
    return PEBBLE_ROOT


def test_served_chain_verifies_against_pebbles_root(host, pebble_root):
    info = wait_for(lambda: host.run("python3 -c 'import socket; socket.create_connection((\"%s\", 443), 2)'"
                                     % NAME).rc == 0 and tls_info(host, NAME, "/", pebble_root), 60)
    assert info["status"] == 200
    issuer = dict(pair[0] for pair in info["issuer"])
    assert "Pebble" in issuer.get("commonName", ""), issuer
    assert info["version"] in ("TLSv1.2", "TLSv1.3")


def test_hsts_on_by_default_for_acme(host, pebble_root):
    headers = tls_info(host, NAME, "/", pebble_root)["headers"]
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_app_answers_through_the_acme_certificate(host, pebble_root):
    summary = probe(host, "--url", "https://%s/health" % NAME, "--cacert", pebble_root, "--count", "20")
    assert summary["failed"] == 0, summary


def test_certificate_is_renewed_before_it_expires(host, pebble_root):
    first = tls_info(host, NAME, "/", pebble_root)
    start = time.monotonic()
    renewed = wait_for(lambda: tls_info(host, NAME, "/", pebble_root)["serial"] != first["serial"],
                       150, interval=5)
    print("certificate %s (until %s) renewed after %.0fs"
          % (first["serial"], first["not_after"], time.monotonic() - start))
    assert renewed
    # Both the old and new certificates came from the real CA: the new one verifies too.
    assert tls_info(host, NAME, "/", pebble_root)["status"] == 200


def test_caddy_issues_and_renews_in_its_sandbox(host):
    """The issuance and renewal above ran under the caddy role's sandbox."""
    score = exposure(host, "caddy.service")
    print("caddy.service exposure:", score)
    assert score <= 2.5
