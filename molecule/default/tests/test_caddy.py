"""Caddy in front of the app on one VM: HTTPS with Caddy's internal CA,
redirects, headers, TLS versions, and a refused config that changes nothing."""
import http.client
import json
import subprocess
import time

from asgi_testlib import CADDY_ROOT, deploy, exposure, https_get, live_slot, probe, tls_info, wait_for, why

ROOT_ON_HOST = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt"
# Published on the controller's loopback by molecule.yml.
HTTPS_PORT, HTTP_PORT = 18443, 18080


def openssl_handshake(version):
    # SECLEVEL=0 lets this client offer old versions, so a refusal is the server's.
    return subprocess.run(
        ["openssl", "s_client", "-connect", "localhost:%d" % HTTPS_PORT, "-servername", "localhost",
         "-" + version, "-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile", CADDY_ROOT],
        input="", capture_output=True, text=True, timeout=30, check=False)


def test_caddy_enabled_and_running(host):
    caddy = host.service("caddy")
    assert caddy.is_enabled and caddy.is_running
    assert host.process.filter(comm="caddy")[0].user == "caddy"


def test_caddy_runs_in_a_sandbox(host):
    """The tests of this file (HTTPS with Caddy's CA, reloads, the app's socket
    through the group, the access log) pass with Caddy at this exposure."""
    score = exposure(host, "caddy.service")
    print("caddy.service exposure:", score)
    assert score <= 2.5
    assert host.run("runuser -u caddy -- touch /etc/caddy/x").rc != 0


def test_caddy_leaves_the_app_workers_their_share_of_the_cpus(host):
    """Caddy shares this host with the app's workers: Go runs its code on half
    the CPUs, at least one (caddy_gomaxprocs), in the unit and the process."""
    expected = "GOMAXPROCS=%d" % max(1, int(host.check_output("nproc")) // 2)
    assert expected in host.check_output("systemctl show caddy -p Environment --value").split()
    pid = host.check_output("systemctl show caddy -p MainPID --value")
    assert expected in host.check_output("tr '\\0' '\\n' < /proc/%s/environ" % pid).split()


def test_https_reaches_the_app_through_caddy(host):
    summary = probe(host, "--url", "https://localhost/", "--cacert", ROOT_ON_HOST,
                    # Enough requests at once that Caddy opens several upstream
                    # connections: one kept-alive connection always meets one worker.
                    "--count", "200", "--concurrency", "16")
    assert summary["failed"] == 0, summary
    assert len(summary["pids"]) > 1, summary


def test_every_request_is_one_line_of_caddys_access_log_at_full_speed(host):
    """More requests than journald's default rate limit lets through (10,000
    lines per 30 s), as fast as 8 kept-alive clients can send them: each is
    exactly one line of Caddy's access log file, and none is a line of
    uvicorn's (app_access_log false). The file rolls as configured."""
    marker = "logged=%d" % time.time_ns()
    summary = probe(host, "--url", "https://localhost/health?" + marker, "--cacert", ROOT_ON_HOST,
                    "--count", "12000", "--concurrency", "8", "--keep-alive", "--no-retry")
    assert summary["failed"] == 0 and summary["sent"] == 12000, summary

    def lines():
        return int(host.check_output("grep -c -F '%s' /var/log/caddy/access.log || true" % marker))

    wait_for(lambda: lines() >= summary["sent"], 30)
    print("%d requests in %.1f s (%.0f/s), %d access log lines" % (
        summary["sent"], summary["seconds"], summary["sent"] / summary["seconds"], lines()))
    assert lines() == summary["sent"]
    assert marker not in host.check_output("journalctl --no-pager -o cat -u 'example@*' --since -5min")
    config = json.loads(host.check_output(
        "python3 -c \"import urllib.request; print(urllib.request.urlopen("
        "'http://localhost:2019/config/logging/logs').read().decode())\""))
    writers = [log["writer"] for log in config.values() if log.get("writer", {}).get("output") == "file"]
    assert writers and all(writer["filename"] == "/var/log/caddy/access.log" and writer["roll_size_mb"] == 100
                           and writer["roll_keep"] == 10 for writer in writers), config


def test_caddy_rolls_its_access_log_and_keeps_serving(host):
    """At its roll size the roller renames the log, starts a new one and
    compresses the old, each given the owner of the one before: a chown that
    the sandbox must let through, or the first roll kills Caddy, and every
    start after it. The roller counts from the size it finds when Caddy
    starts: a log just under the roll size, then a restart."""
    host.run_expect([0], "systemctl stop caddy && truncate -s %d /var/log/caddy/access.log && systemctl start caddy"
                    % (100 * 1024 * 1024 - 4096))
    pid = host.check_output("systemctl show -p MainPID --value caddy")
    summary = probe(host, "--url", "https://localhost/health", "--cacert", ROOT_ON_HOST, "--count", "200",
                    "--concurrency", "4")
    assert summary["failed"] == 0, summary
    assert wait_for(lambda: host.run("ls /var/log/caddy/access-*.log.gz").rc == 0, 30), \
        host.check_output("ls -la /var/log/caddy")
    assert host.check_output("systemctl show -p MainPID --value caddy") == pid
    assert host.file("/var/log/caddy/access.log").size < 1024 * 1024
    assert probe(host, "--url", "https://localhost/health", "--cacert", ROOT_ON_HOST, "--count", "20")["failed"] == 0
    host.run_expect([0], "rm -f /var/log/caddy/access-*.log.gz")


def test_root_ca_fetched_and_chain_verifies_from_the_controller():
    response, body = https_get(HTTPS_PORT)
    assert response.status == 200
    # The app sees the original scheme: Caddy's forwarded headers are trusted.
    assert b'"scheme":"https"' in body


def test_hsts_and_security_headers():
    response, _body = https_get(HTTPS_PORT)
    assert response.getheader("Strict-Transport-Security", "").startswith("max-age=31536000")
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Server") is None


def test_http_redirects_to_https():
    connection = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=10)
    connection.request("GET", "/items?x=1", headers={"Host": "localhost"})
    response = connection.getresponse()
    assert response.status == 308
    assert response.getheader("Location") == "https://localhost/items?x=1"


def test_tls_1_2_accepted_and_1_0_1_1_refused():
    assert "Verify return code: 0 (ok)" in openssl_handshake("tls1_2").stdout
    for version in ("tls1", "tls1_1"):
        result = openssl_handshake(version)
        assert result.returncode != 0, version
        assert "alert protocol version" in result.stdout + result.stderr, result.stderr


def test_refused_snippet_fails_the_role_and_keeps_the_old_config(host):
    files = ("/etc/caddy/Caddyfile", "/etc/caddy/sites.d/example.caddy")
    before = [host.file(name).sha256sum for name in files]
    result = deploy(extra_vars={"caddy_sites": [
        {"domains": ["localhost"], "tls": "internal", "extra": "no_such_directive on"}]})
    assert result.returncode != 0
    assert "no_such_directive" in result.stdout
    assert [host.file(name).sha256sum for name in files] == before
    response, _body = https_get(HTTPS_PORT, "/health")
    assert response.status == 200


def test_own_certificate_files_and_metrics(host, tmp_path):
    """tls: files serves the operator's certificate; metrics opt-in answers on loopback."""
    cert, key = tmp_path / "site.crt", tmp_path / "site.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-days", "2", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    serial = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-serial"], check=True,
                            capture_output=True, text=True).stdout.strip().split("=")[1]
    own = {"caddy_sites": [{"domains": ["localhost"], "tls": "files", "tls_cert": str(cert),
                            "tls_key": str(key), "hsts": True}],
           "caddy_metrics_listen": "127.0.0.1:9180"}
    try:
        result = deploy(extra_vars=own)
        assert result.returncode == 0, why(result)
        host.ansible("ansible.builtin.copy", "src=%s dest=/tmp/own.crt mode=0644" % cert, check=False)
        info = tls_info(host, "localhost", "/health", "/tmp/own.crt")
        assert info["status"] == 200 and int(info["serial"], 16) == int(serial, 16)
        key_file = host.file("/etc/caddy/certs/localhost.key")
        assert key_file.mode == 0o640 and key_file.group == "caddy"
        metrics = host.check_output("python3 -c \"import urllib.request;"
                                    "print(urllib.request.urlopen('http://127.0.0.1:9180/metrics').read().decode())\"")
        assert "# TYPE caddy_" in metrics
    finally:
        # Back to the scenario's own configuration for the tests that follow.
        restored = deploy()
        assert restored.returncode == 0, why(restored)


def test_only_caddy_listens_on_tcp(host):
    """Public: Caddy's 80 and 443 only; its admin API on loopback; the app on its unix socket only."""
    listening = sorted(line.split()[3] for line in host.check_output("ss -Hltn").splitlines())
    assert listening == ["*:443", "*:80", "127.0.0.1:2019"], listening
    assert "/run/example/%s.sock" % live_slot(host, "example") in host.check_output("ss -Hlx")


def test_kill_caddy_comes_back(host, fault):
    fault.fault, fault.expected = "kill -9 Caddy", "systemd restarts it, HTTPS back < 30 s"
    before = host.process.filter(comm="caddy")[0].pid
    host.run("kill -9 %d" % before)
    start = time.monotonic()

    def answering():
        result = host.run("python3 /usr/local/bin/asgi_probe.py --url https://localhost/health --cacert %s "
                          "--count 1 --timeout 2" % ROOT_ON_HOST)
        return result.rc == 0 and '"ok": 1' in result.stdout

    assert wait_for(answering, 120)
    print("HTTPS answered again %.1fs after kill -9 of Caddy" % (time.monotonic() - start))
    fault.observed = "HTTPS 200 again after %.1f s" % (time.monotonic() - start)
    assert host.process.filter(comm="caddy")[0].pid != before
