"""Faults on one VM, each injected for real, and the secrets and TLS checks.
Tests run in file order: the first deploys the release the others break."""
import hashlib
import json
import os
import random
import re
import shlex
import signal
import subprocess
import tempfile
import time

import pytest

from asgi_testlib import (CADDY_ROOT, CADDY_ROOT_ON_HOST, PROJECT, BackgroundLoop, app_copy, deploy, deploy_command,
                          env_file, healthy, install_probe, live_unit, main_pid, probe, restore_when_not_serving,
                          wait_for, why, worker_pids)

APP = "example"


def unit(host):
    """The serving slot's service."""
    return live_unit(host, APP)


SOCKET = "/run/%s/%s.sock" % (APP, APP)
STATE = "/var/lib/" + APP
# Published on the controller's loopback by molecule.yml.
HTTPS_PORT = 18843
# Installed apart by scripts/setup-machine.sh (see tests/tools/requirements-sslyze.txt).
SSLYZE = os.path.join(PROJECT, ".tmp", "sslyze-venv", "bin", "sslyze")
# Recognisable, so a leak anywhere can be found by grep.
SECRET = "s3cr3t-faults-7d41e0aa9c-never-print"
# A multi-line secret, as a signing key is: handed to the app as a file.
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC-faults-pem-never-print"
PEM = "-----BEGIN PRIVATE KEY-----\n%s\n%s\n-----END PRIVATE KEY-----\n" % (PEM_BODY, PEM_BODY[::-1])
BASE_VARS = {"app_secret_env": {"FAULTS_TOKEN": SECRET}, "app_secret_files": {"signing.pem": PEM}}

# Added to the example app: an endpoint that allocates until told to stop,
# and, when asked, a worker that kills uvicorn's main process a little after
# the app starts serving (a crash the import check cannot see).
FAULTS_PY = '''"""Faults for the faults scenario, never for production."""
import multiprocessing
import os
import signal
import sys
import threading
import time

from fastapi import APIRouter

router = APIRouter()


@router.get("/credential")
def credential():
    """The sha256 of the secret file the deploy hands the app."""
    import hashlib
    with open(os.path.join(os.environ["CREDENTIALS_DIRECTORY"], "signing.pem"), "rb") as handle:
        return {"sha256": hashlib.sha256(handle.read()).hexdigest()}


@router.get("/hog")
def hog(mb: int):
    held = [b"\\xff" * (16 << 20) for _ in range(mb // 16)]
    return {"held_mb": 16 * len(held)}


def crash_later(seconds):
    def crash():
        time.sleep(seconds)
        print("faults: crashing uvicorn on purpose after %ss of serving" % seconds,
              file=sys.stderr, flush=True)
        os.kill(os.getppid(), signal.SIGKILL)
    threading.Thread(target=crash, daemon=True).start()
'''
ADD_ROUTER = ('app = FastAPI(title="asgi.deploy example")\n',
              'app = FastAPI(title="asgi.deploy example")\n'
              'from .faults import crash_later, router  # noqa: E402\n'
              'app.include_router(router)\n')
# Only in uvicorn's workers (spawned by multiprocessing), not in the import check.
CRASH_AFTER_4S = ('app.include_router(router)\n',
                  'app.include_router(router)\n'
                  'if multiprocessing.parent_process() is not None:\n'
                  '    crash_later(4)\n')


def faults_app(tmp_path, crash=False, version="1"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    replace = {"app/main.py": ("import os\n", "import multiprocessing\nimport os\n")} if crash else {}
    src = app_copy(tmp_path, write={"app/faults.py": FAULTS_PY, "VERSION": version + "\n"}, replace=replace)
    main = os.path.join(src, "app", "main.py")
    with open(main) as handle:
        text = handle.read()
    text = text.replace(*ADD_ROUTER)
    if crash:
        text = text.replace(*CRASH_AFTER_4S)
    with open(main, "w") as handle:
        handle.write(text)
    return src


def run_deploy(src, **extra):
    return deploy(extra_vars=dict(BASE_VARS, app_src=src, **extra))


@pytest.fixture(scope="module")
def good_src(tmp_path_factory):
    """The release the first test deploys: the same content gives the same release id."""
    return faults_app(tmp_path_factory.mktemp("good"))


@pytest.fixture(scope="module")
def probe_installed(host):
    """healthy() runs the request probe, which probe() installs; install it once up front."""
    install_probe(host)


@pytest.fixture(autouse=True)
def leaves_host_serving(host, probe_installed, good_src):
    """Whatever a test did or where it stopped, the next one starts on a host that serves."""
    yield

    def redeploy():
        host.run("rm -f %s/filler; systemctl reset-failed %s" % (STATE, unit(host)))
        # A test stopped halfway may have left a run's lock behind.
        return run_deploy(good_src, app_break_lock=True)
    restore_when_not_serving(lambda: healthy(host, SOCKET), redeploy, unit(host))


def current(host):
    return host.file("/opt/%s/current" % APP).linked_to


def complete(host, release_dir):
    return host.file(release_dir + "/.asgi-deploy-complete").exists


def serving_release(host, count=10):
    summary = probe(host, "--unix", SOCKET, "--count", str(count))
    assert summary["failed"] == 0, summary
    assert len(summary["releases"]) == 1, summary
    return next(iter(summary["releases"]))


def test_secret_is_nowhere_in_output_files_or_systemd(host, good_src, fault):
    fault.fault = "secret in app_secret_env and a PEM key in app_secret_files, deploy at -v"
    fault.expected = "the key read byte for byte by the app, <app>-run and the migration; neither secret in output, " \
                     "world-readable files, systemctl show, the processes' environment"
    # The migration says what it read of the key, into the state folder.
    saw = "/var/lib/%s/migration-saw" % APP
    migrate = "sha256sum \"$CREDENTIALS_DIRECTORY/signing.pem\" | cut -d' ' -f1 > %s && alembic upgrade head" % saw
    result = deploy(extra_vars=dict(BASE_VARS, app_src=good_src, app_migrate_command=migrate), args=["-v"])
    assert result.returncode == 0, why(result)
    assert host.file(env_file(host, APP)).content_string.count(SECRET) == 1
    digest = hashlib.sha256(PEM.encode()).hexdigest()
    assert json.loads(host.check_output("python3 -c %s" % shlex.quote(
        "import http.client,socket;c=http.client.HTTPConnection('localhost');"
        "c.sock=socket.socket(socket.AF_UNIX);c.sock.connect(%r);"
        "c.request('GET','/credential');print(c.getresponse().read().decode())" % SOCKET)))["sha256"] == digest
    assert host.check_output("%s-run sh -c 'sha256sum \"$CREDENTIALS_DIRECTORY/signing.pem\"'" % APP).split()[0] == digest
    assert host.file(saw).content_string.strip() == digest
    assert PEM_BODY not in result.stdout
    environments = host.check_output("for pid in $(systemctl show -p MainPID --value %s) $(pgrep -f spawn_main); do "
                                     "tr '\\0' '\\n' < /proc/$pid/environ; done" % unit(host))
    assert "CREDENTIALS_DIRECTORY=" in environments
    assert PEM_BODY not in environments
    # -v took effect (results are printed), and the secret is in none of it.
    assert '"changed": true' in result.stdout
    assert SECRET not in result.stdout
    # Every world-readable regular file on the host's own file systems; the
    # canary shows the search finds a leak where there is one.
    scan = ("find / -xdev \\( -path /proc -o -path /sys \\) -prune -o -type f -perm -o=r -size -8M -print0"
            " | xargs -0 grep -l --fixed-strings -- %s" % SECRET)
    host.run("echo %s > /var/tmp/asgi-canary && chmod 0644 /var/tmp/asgi-canary" % SECRET)
    assert host.run(scan).stdout.split() == ["/var/tmp/asgi-canary"]
    assert host.run(scan.replace(SECRET, PEM_BODY)).stdout == ""
    host.run("rm -f /var/tmp/asgi-canary")
    leaks = host.run(scan)
    assert leaks.stdout == "", leaks.stdout
    shown = host.run("systemctl show %s %s; systemctl show-environment" % (unit(host), live_unit(host, APP, "socket")))
    assert shown.rc == 0 and SECRET not in shown.stdout and PEM_BODY not in shown.stdout
    journal = host.run("journalctl --no-pager -o cat").stdout
    assert SECRET not in journal and PEM_BODY not in journal
    fault.observed = ("key read byte for byte by the app, <app>-run and the migration; both absent from %d lines of "
                      "-v output, files, systemctl show, journal, the processes' environment") % len(result.stdout.splitlines())


def sslyze(tmp_path):
    out = tmp_path / "sslyze.json"
    # The scans named here run; sslyze skips the HTTP headers unless asked.
    result = subprocess.run([SSLYZE, "--json_out", str(out), "--quiet", "--certinfo", "--certinfo_ca_file", CADDY_ROOT,
                             "--sslv2", "--sslv3", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3",
                             "--http_headers", "localhost:%d" % HTTPS_PORT],
                            capture_output=True, text=True, timeout=300, check=False)
    assert out.exists(), result.stdout + result.stderr
    scan = json.loads(out.read_text())["server_scan_results"][0]
    assert scan["scan_status"] == "COMPLETED", scan.get("connectivity_error_trace")
    return scan["scan_result"]


# No export, NULL, anonymous, RC4, DES/3DES or CBC-SHA1-era suites.
WEAK = re.compile(r"NULL|EXPORT|anon|RC4|_DES_|3DES|MD5|_CBC_SHA$")


def test_tls_scan(tmp_path, fault):
    fault.fault, fault.expected = "sslyze scan of HTTPS", "TLS 1.2+ only, no weak suites, HSTS, chain valid"
    result = sslyze(tmp_path)
    accepted = {}
    for version in ("ssl_2_0", "ssl_3_0", "tls_1_0", "tls_1_1", "tls_1_2", "tls_1_3"):
        suites = result[version + "_cipher_suites"]["result"]["accepted_cipher_suites"]
        accepted[version] = [suite["cipher_suite"]["name"] for suite in suites]
    print("accepted:", json.dumps(accepted, indent=1))
    assert not any(accepted[v] for v in ("ssl_2_0", "ssl_3_0", "tls_1_0", "tls_1_1")), accepted
    assert accepted["tls_1_2"] and accepted["tls_1_3"]
    weak = [name for names in accepted.values() for name in names if WEAK.search(name)]
    assert weak == []
    hsts = result["http_headers"]["result"]["strict_transport_security_header"]
    assert hsts is not None and hsts["max_age"] >= 31536000, hsts
    deployment = result["certificate_info"]["result"]["certificate_deployments"][0]
    # "Supplied CA file" is sslyze's name for --certinfo_ca_file: Caddy's root.
    validated = {r["trust_store"]["name"]: r["was_validation_successful"]
                 for r in deployment["path_validation_results"]}
    assert validated["Supplied CA file"] is True, validated
    fault.observed = "TLS 1.2 (%d suites) + 1.3 (%d); older refused; HSTS max-age %d; chain valid" % (
        len(accepted["tls_1_2"]), len(accepted["tls_1_3"]), hsts["max_age"])


def memory_limit_bytes(host):
    return int(host.check_output("systemctl show -p MemoryMax --value %s" % unit(host)))


def oom_kills(host, pid):
    """The OOM killer's count in the memory cgroup of the unit (v1 or v2)."""
    for line in host.file("/proc/%d/cgroup" % pid).content_string.splitlines():
        _hid, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            text = host.file("/sys/fs/cgroup/memory%s/memory.oom_control" % path).content_string
            break
        if controllers == "":
            text = host.file("/sys/fs/cgroup%s/memory.events" % path).content_string
    return int(re.search(r"^oom_kill (\d+)$", text, re.M).group(1))


def test_worker_past_memory_max_is_replaced(host, fault):
    fault.fault, fault.expected = "a worker allocates past MemoryMax", "kernel kills it, others serve"
    limit_mb = memory_limit_bytes(host) // (1 << 20)
    workers, main = worker_pids(host, unit(host)), main_pid(host, unit(host))
    kills_before = oom_kills(host, main)
    # The hog's request dies with its worker; a loop of cheap requests runs
    # alongside it and must not lose one.
    hog = "python3 /usr/local/bin/asgi_probe.py --unix %s --path '/hog?mb=%d' --count 1 --timeout 60 --no-retry" % (
        SOCKET, 2 * limit_mb)
    summary = probe(host, "--unix", SOCKET, "--path", "/pid", "--count", "300", "--interval", "0.02",
                    "--during", '"%s"' % hog)
    print("memory hog of %d MiB (MemoryMax %d MiB) under load:" % (2 * limit_mb, limit_mb), summary)
    assert summary["failed"] == 0, summary
    assert wait_for(lambda: len(worker_pids(host, unit(host))) == len(workers), 300)
    after = worker_pids(host, unit(host))
    assert main_pid(host, unit(host)) == main
    killed = set(workers) - set(after)
    kills = oom_kills(host, main) - kills_before
    # Every worker gone was the kernel's OOM kill, and nothing else's. It may
    # be two: while the hog's memory is being reaped, a worker charging a
    # page past MemoryMax can be chosen as well (seen twice in CI beside
    # other lanes, two workers gone and two OOM kills, no request lost).
    assert 1 <= len(killed) == kills <= 2, (workers, after, kills)
    fault.observed = "%d worker%s killed by the kernel, replaced; %d/%d cheap requests ok" % (
        kills, "" if kills == 1 else "s", summary["ok"], summary["sent"])


def test_disk_full_on_state_directory(host, tmp_path, fault):
    fault.fault, fault.expected = "state directory full at deploy", "clear failure, old release serves"
    serving = current(host)
    host.run("fallocate -l $(df --output=avail -B1 %s | tail -1) %s/filler" % (STATE, STATE))
    try:
        assert int(host.check_output("df --output=avail -B1 %s | tail -1" % STATE)) < 65536
        result = run_deploy(faults_app(tmp_path, version="disk-full"))
        assert result.returncode != 0
        assert "database or disk is full" in result.stdout or "No space left" in result.stdout, why(result)
        assert current(host) == serving
        assert healthy(host, SOCKET)
    finally:
        host.run("rm -f %s/filler" % STATE)
    assert serving_release(host) == os.path.basename(serving)
    fault.observed = "migration failed: %s; current unchanged" % (
        "database or disk is full" if "database or disk is full" in result.stdout else "No space left")


def test_release_crashing_in_its_stable_period_never_serves_a_user(host, tmp_path, fault):
    fault.fault = "release kills uvicorn 4 s after starting"
    fault.expected = "preflight fails, app's error shown; 0 user requests reach it"
    serving = current(host)
    loop = BackgroundLoop(host, "--url", "https://localhost/", "--cacert", CADDY_ROOT_ON_HOST, "--post-every", "4",
                          "--concurrency", "2", "--interval", "0.03", "--count", "100000", "--duration", "600")
    try:
        result = run_deploy(faults_app(tmp_path, crash=True, version="crash"))
    finally:
        summary = loop.stop()
    summary.pop("posted_ids")
    print("under load:", summary)
    assert result.returncode != 0
    assert "crashing uvicorn on purpose" in result.stdout, why(result)
    assert "%s still serves; no user request reached the new one" % os.path.basename(serving) in result.stdout
    assert current(host) == serving
    assert summary["failed"] == 0 and set(summary["releases"]) == {os.path.basename(serving)}, summary
    assert serving_release(host) == os.path.basename(serving)
    fault.observed = "deploy failed with the app's message; %d requests, all from the serving release" % summary["sent"]


# systemd's catalog id of "a start job for the unit finished successfully".
STARTED = "39f53479d3a045ac8e11786248231fbf"


def journal_times(host, since, text="", **match):
    """Times of the journal entries since a Unix time with these fields, and text in the message."""
    fields = " ".join("%s=%s" % item for item in match.items())
    out = host.check_output("journalctl --no-pager -o json --since @%s %s" % (since, fields))
    entries = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [int(entry["__REALTIME_TIMESTAMP"]) / 1e6 for entry in entries if text in str(entry.get("MESSAGE", ""))]


def start_windows(starts, interval):
    """The start times grouped as systemd's start rate limit counts them
    (ratelimit_below): a window opens at a start and takes every start until
    `interval` seconds have passed since it opened; the next start opens the next."""
    windows = []
    for start in starts:
        if windows and start - windows[-1][0] <= interval:
            windows[-1].append(start)
        else:
            windows.append([start])
    return windows


def test_start_windows_follow_systemds_rule():
    assert start_windows([0, 10, 20, 61, 62], 60) == [[0, 10, 20], [61, 62]]
    assert start_windows([0, 60, 60.5], 60) == [[0, 60], [60.5]]


def test_crash_loop_stops_at_the_start_limit(host, tmp_path, fault):
    fault.fault = "crash loop (gate's stable period off)"
    fault.expected = "systemd stops at the start limit; next deploy recovers"
    # With the stable period off the gate accepts the first answer: what is
    # left to stop the loop is the unit's start limit. The interval is wide so
    # the limit trips however slowly a crash cycle runs on a busy machine; the
    # verdict is systemd's rule on the starts it logged, not a count that
    # holds only at one speed.
    interval = 600
    host.run("systemctl reset-failed %s" % unit(host))  # clears the start counter too
    since = host.check_output("date +%s")
    result = run_deploy(faults_app(tmp_path, crash=True, version="crash"), app_health_stable_sec=0,
                        app_start_limit_interval_sec=interval)
    assert result.returncode == 0, why(result)
    assert wait_for(lambda: host.run("systemctl is-failed %s" % unit(host)).stdout.strip() == "failed", interval)
    burst = int(host.check_output("systemctl show -p StartLimitBurst --value %s" % unit(host)))
    starts = journal_times(host, since, MESSAGE_ID=STARTED, UNIT=unit(host))
    refused = journal_times(host, since, "Start request repeated too quickly", UNIT=unit(host))
    windows = start_windows(starts, interval)
    print("starts:", [round(t - starts[0], 1) for t in starts], "refused:", [round(t - starts[0], 1) for t in refused])
    assert all(len(window) <= burst for window in windows), windows
    # The refused start came while the last window was open and full.
    assert len(refused) == 1 and len(windows[-1]) == burst, (windows, refused)
    assert refused[0] - windows[-1][0] <= interval
    time.sleep(10)
    assert host.run("systemctl is-failed %s" % unit(host)).stdout.strip() == "failed"
    recovered = run_deploy(faults_app(tmp_path / "good", version="after-crash-loop"))
    assert recovered.returncode == 0, why(recovered)
    assert wait_for(lambda: healthy(host, SOCKET), 300)
    fault.observed = "stopped after %d starts in %.0f s (burst %d); next deploy serving" % (
        len(starts), starts[-1] - starts[0], burst)


LOCK = "/var/lib/asgi-deploy/%s/lock.json" % APP


def start_deploy(src, log, *args):
    """ansible-playbook site.yml in the background, its output to log."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(dict(BASE_VARS, app_src=src), handle)
    out = open(log, "w")
    run = subprocess.Popen(deploy_command(args=["-e", "@" + handle.name] + list(args)), stdout=out,
                           stderr=subprocess.STDOUT, cwd=PROJECT, start_new_session=True)
    run.log, run.vars_file, run.out = log, handle.name, out
    return run


def finish(run, timeout=900):
    run.wait(timeout=timeout)
    run.out.close()
    os.unlink(run.vars_file)
    return run.log.read_text()


def finish_all(runs, timeout=900):
    """Wait for every run, noting when each one ended."""
    deadline, pending = time.monotonic() + timeout, list(runs)
    while pending and time.monotonic() < deadline:
        for run in [run for run in pending if run.poll() is not None]:
            run.finished = time.monotonic()
            pending.remove(run)
        time.sleep(0.2)
    return [finish(run, timeout=1) for run in runs]


def releases_with_version(host, version):
    return host.run("grep -lx %s /opt/%s/releases/*/app/VERSION" % (version, APP)).stdout.split()


def test_two_deploys_at_once_one_runs_and_one_names_it(host, tmp_path, fault):
    fault.fault = "two operators start a deploy of two releases at the same moment, under load"
    fault.expected = "one deploys; the other stops at once naming the first, changing nothing; 0 failed requests"
    loop = BackgroundLoop(host, "--unix", SOCKET, "--concurrency", "2", "--interval", "0.02", "--count", "100000",
                          "--duration", "600")
    try:
        started = time.monotonic()
        runs = {name: start_deploy(faults_app(tmp_path / name, version=name), tmp_path / (name + ".log"))
                for name in ("together-a", "together-b")}
        logs = dict(zip(runs, finish_all(list(runs.values()))))
    finally:
        summary = loop.stop()
    summary.pop("posted_ids", None)
    won = [name for name, run in runs.items() if run.returncode == 0]
    assert len(won) == 1, {name: logs[name][-3000:] for name in runs}
    winner, loser = runs[won[0]], runs[({"together-a", "together-b"} - set(won)).pop()]
    text = logs[({"together-a", "together-b"} - set(won)).pop()]
    assert "App '%s' is locked by another run on" % APP in text, text[-3000:]
    assert "pid %d, playbook site.yml" % winner.pid in text and "still running on this controller" in text
    assert "Nothing was changed." in text and re.search(r"changed=0 ", text), text[-1500:]
    assert loser.finished - started < winner.finished - started
    assert releases_with_version(host, ({"together-a", "together-b"} - set(won)).pop()) == []
    assert host.file(current(host) + "/app/VERSION").content_string.strip() == won[0]
    assert not host.file(LOCK).exists
    assert summary["failed"] == 0, summary
    fault.observed = "%s deployed; the other stopped after %.0f s naming it (the deploy took %.0f s); %d requests, 0 failed" % (
        won[0], loser.finished - started, winner.finished - started, summary["sent"])


def test_ansible_killed_mid_deploy(host, tmp_path, fault):
    fault.fault = "ansible-playbook killed at a random task"
    fault.expected = "current always complete; next run finishes"
    seed = int(os.environ.get("ASGI_FAULT_SEED", time.time()))
    rng = random.Random(seed)
    killed_at, stale = [], []
    # The first round is killed in the worst place: the new slot runs beside
    # the old one, and the stable path is being moved. The second at random.
    for round_, kill_at in enumerate(["Move the traffic, stop the old slot", None]):
        src = faults_app(tmp_path / str(round_), version="interrupted-%d" % round_)
        run = start_deploy(src, tmp_path / ("interrupted-%d.log" % round_))
        if kill_at:
            assert wait_for(lambda: kill_at in run.log.read_text(), 600, interval=0.1)
        else:
            time.sleep(rng.uniform(3, 30))
        os.killpg(run.pid, signal.SIGKILL)
        tasks = re.findall(r"^TASK \[(.*?)\]", finish(run, timeout=60), re.M)
        killed_at.append(tasks[-1] if tasks else "(before the first task)")
        # Whatever was interrupted, current is a finished release and serves.
        assert complete(host, current(host)), killed_at
        assert wait_for(lambda: healthy(host, SOCKET), 300), killed_at
        if host.file(LOCK).exists:
            # The killed run's lock: the next run names it as stale, with its
            # age, and changes nothing until told to break it.
            assert json.loads(host.file(LOCK).content_string)["pid"] == run.pid
            refused = run_deploy(src)
            assert refused.returncode != 0
            assert re.search(r"pid %d, playbook site.yml, started [^;]+; it took the lock (\d+ min )?\d+ s ago"
                             % run.pid, refused.stdout), why(refused)
            assert "no longer running" in refused.stdout and "-e app_break_lock=true" in refused.stdout
            result = run_deploy(src, app_break_lock=True)
            assert "Broke the deploy lock of" in result.stdout, why(result)
            stale.append(round_)
        else:
            result = run_deploy(src)
        assert result.returncode == 0, why(result)
        assert not host.file(LOCK).exists
        assert serving_release(host) == os.path.basename(current(host))
        assert host.file(current(host) + "/app/VERSION").content_string.strip() == "interrupted-%d" % round_
    print("seed %d; killed during: %s; stale lock broken after rounds %s" % (seed, killed_at, stale))
    # The first round was killed long after the lock was taken.
    assert 0 in stale
    fault.observed = "seed %d; killed in: %s; stale lock named and broken after %d; all recovered" % (
        seed, "; ".join(killed_at), len(stale))
