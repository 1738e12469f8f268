"""Helpers the Molecule verifiers share: run the request probe on a test host,
deploy again with other variables, restart a container, wait for a condition.

Every loop here is bounded: a fixed count of requests or a deadline.
"""
import http.client
import json
import os
import re
import shlex
import ssl
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(HERE, "asgi_probe.py")
MEMORY = os.path.join(HERE, "asgi_memory.py")
PROJECT = os.environ.get("MOLECULE_PROJECT_DIRECTORY",
                         os.path.abspath(os.path.join(HERE, "..", "..", "..")))
# Caddy's root certificate, fetched to the controller by caddy_fetch_root_ca_to.
CADDY_ROOT = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "caddy-root.crt")
# The same root on an edge host, where Caddy keeps its local CA.
CADDY_ROOT_ON_HOST = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt"


def install_probe(host):
    host.ansible("ansible.builtin.copy",
                 "src=%s dest=/usr/local/bin/asgi_probe.py mode=0755" % PROBE,
                 check=False, become=True)


def probe(host, *args):
    """Run the bounded request loop on host; return its JSON summary."""
    install_probe(host)
    command = "python3 /usr/local/bin/asgi_probe.py " + " ".join(args)
    result = host.run(command)
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def wait_for(check, timeout, interval=0.5):
    """Call check() until it returns a true value or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def deploy_command(playbook="site.yml", args=()):
    """ansible-playbook for a playbook of this checkout and the scenario's inventory."""
    return ["ansible-playbook", "-i", os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "inventory"),
            os.path.join(PROJECT, playbook)] + list(args)


def deploy(playbook="site.yml", extra_vars=None, timeout=900, args=()):
    """Run a playbook of this checkout against the scenario's inventory."""
    command = deploy_command(playbook, args)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(extra_vars or {}, handle)
    try:
        # One stream: Ansible prints failures on stderr.
        # No terminal: a playbook that asks (restore.yml) gets no answer.
        return subprocess.run(command + ["-e", "@" + handle.name], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, timeout=timeout,
                              cwd=PROJECT, check=False)
    finally:
        os.unlink(handle.name)


def app_copy(tmp_path, write=None, replace=None):
    """A copy of the example app on the controller: files written, or text replaced."""
    src = os.path.join(PROJECT, "examples", "app")
    dest = tmp_path / "app"
    subprocess.run(["cp", "-r", src, str(dest)], check=True)
    for relative, text in (write or {}).items():
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for relative, (old, new) in (replace or {}).items():
        target = dest / relative
        text = target.read_text()
        assert old in text, "%s has no %r" % (relative, old)
        target.write_text(text.replace(old, new))
    return str(dest)


# The weight of a real app's workers: the example app's worker holds about
# 67 MiB after import; real FastAPI apps with their SDKs hold 69-116 MiB.
BALLAST_MB = 44
BALLAST = {"app/ballast.py": '"""Memory every worker holds from import on, as a real app\'s imports do."""\n'
                             'HELD = b"\\x01" * (%d << 20)\n' % BALLAST_MB}
IMPORT_BALLAST = {"app/main.py": ("from .db import engine\n", "from . import ballast  # noqa: F401\nfrom .db import engine\n")}


def heavy_app(tmp_path, write=None, replace=None):
    """The example app whose workers hold about 110 MiB each, with files written or text replaced."""
    replacements = dict(IMPORT_BALLAST)
    for relative, change in (replace or {}).items():
        if relative in replacements:
            # Both changes to one file: the ballast's import, then this one.
            replacements[relative] = [replacements[relative], change]
        else:
            replacements[relative] = change
    tmp_path.mkdir(parents=True, exist_ok=True)
    dest = app_copy(tmp_path, write=dict(BALLAST, **(write or {})))
    for relative, changes in replacements.items():
        target = os.path.join(dest, relative)
        with open(target) as handle:
            text = handle.read()
        for old, new in (changes if isinstance(changes, list) else [changes]):
            assert old in text, "%s has no %r" % (relative, old)
            text = text.replace(old, new)
        with open(target, "w") as handle:
            handle.write(text)
    return dest


class MemorySampler:
    """The app's memory sampled every 100 ms on a host (asgi_memory.py) as a
    transient systemd unit, while the controller deploys."""

    def __init__(self, host, app, name="asgi-memory"):
        self.host, self.name = host, name
        self.stop_file, self.output = "/run/%s.stop" % name, "/run/%s.json" % name
        host.ansible("ansible.builtin.copy", "src=%s dest=/usr/local/bin/asgi_memory.py mode=0755" % MEMORY,
                     check=False, become=True)
        host.run("rm -f %s %s; systemctl reset-failed %s.service" % (self.stop_file, self.output, name))
        result = host.run("systemd-run --unit %s --property RuntimeMaxSec=900 --property StandardOutput=file:%s "
                          "python3 /usr/local/bin/asgi_memory.py %s --stop-file %s"
                          % (name, self.output, app, self.stop_file))
        assert result.rc == 0, result.stderr

    def stop(self):
        self.host.run("touch %s" % self.stop_file)
        assert wait_for(lambda: self.host.run("systemctl is-active %s.service" % self.name).rc != 0, 60)
        return json.loads(self.host.file(self.output).content_string.strip().splitlines()[-1])


# A release whose migration drops a column that holds data (the items'
# names), and whose code no longer reads it: the change a restore undoes.
DROP_NAMES = {"migrations/versions/0002_drop_names.py": '''"""Drop the items' names.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("items") as batch:
        batch.drop_column("name")


def downgrade():
    raise NotImplementedError("the names are gone")
'''}
DROP_NAMES_CODE = {"app/main.py": (
    'rows = connection.execute(text("SELECT id, name FROM items ORDER BY id")).all()\n'
    '    return [{"id": row.id, "name": row.name} for row in rows]',
    'rows = connection.execute(text("SELECT id FROM items ORDER BY id")).all()\n'
    '    return [{"id": row.id} for row in rows]')}


def app_dropping_names(tmp_path):
    """The example app with a migration that drops the items' names."""
    return app_copy(tmp_path, write=DROP_NAMES, replace=DROP_NAMES_CODE)


def deploy_with_a_full_backup_disk(host, extra_vars):
    """A deploy while host's snapshot folder is a 16 MiB file system, less than the margin a snapshot needs."""
    host.run("mkdir -p /var/backups/asgi-deploy && mount -t tmpfs -o size=16m asgi-full /var/backups/asgi-deploy")
    try:
        return deploy(extra_vars=extra_vars)
    finally:
        host.run("umount /var/backups/asgi-deploy")


def snapshot_lines(result):
    """What the deploy said its snapshot holds: its name, and the lines after 'Snapshot <name> (restore: ...):'."""
    lines = result.stdout.splitlines()
    for index, line in enumerate(lines):
        found = re.match(r"^Snapshot (\S+) \(restore: .*\):$", line)
        if found:
            parts = []
            for part in lines[index + 1:]:
                if not part.strip() or part.startswith(("ok: [", "changed: [", "TASK [")):
                    break
                parts.append(part)
            return found.group(1), parts
    return None, []


def restart_container(name):
    """A reboot: stop systemd cleanly (SIGRTMIN+3), start the container again."""
    subprocess.run(["docker", "restart", "--time", "30", name], check=True,
                   capture_output=True, timeout=120)


def healthy(host, socket):
    """One request to the app's health path on its unix socket answered 200."""
    return host.run("python3 /usr/local/bin/asgi_probe.py --unix %s --path /health --count 1 --timeout 2"
                    % socket).stdout.count('"ok": 1') == 1


def https_get(port, path="/", timeout=10):
    """From the controller: GET https://localhost:<port><path>, verified against Caddy's root."""
    context = ssl.create_default_context(cafile=CADDY_ROOT)
    connection = http.client.HTTPSConnection("localhost", port, context=context, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": "localhost"})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def restore_when_not_serving(serving, redeploy, unit):
    """After a test that changes the deployment: when serving() is false,
    clear the unit's failed state on the hosts and redeploy the known-good
    release, so a test that failed halfway costs one failure, not the tests
    after it. serving() -> bool; redeploy() -> a finished playbook run."""
    if serving():
        return
    result = redeploy()
    assert result.returncode == 0 and wait_for(serving, 120), \
        "could not put the known-good release (%s) back after this test: %s" % (unit, why(result))


def resize(host, memory_mb):
    """Give the test host another memory limit, as a VM resized."""
    subprocess.run(["docker", "update", "--memory", "%dm" % memory_mb, "--memory-swap", "%dm" % memory_mb,
                    host.backend.get_hostname()], check=True, capture_output=True)


def booted(host):
    return host.run("systemctl is-system-running").stdout.strip() in ("running", "degraded")


def live_slot(host, app):
    """The slot the app's stable socket path links to: 'blue', 'green' or ''."""
    target = host.run("readlink /run/%s/%s.sock" % (app, app)).stdout.strip()
    return os.path.basename(target)[:-len(".sock")] if target.endswith(".sock") else ""


def live_unit(host, app, kind="service"):
    """The unit of the serving slot, e.g. example@blue.service."""
    return "%s@%s.%s" % (app, live_slot(host, app), kind)


def env_file(host, app):
    """The serving slot's environment file."""
    return "/etc/%s/%s.env" % (app, live_slot(host, app))


def main_pid(host, unit):
    return int(host.check_output("systemctl show -p MainPID --value %s" % unit))


def exposure(host, unit):
    """systemd-analyze security's overall exposure of a unit (0 to 10, lower is safer)."""
    line = host.check_output("systemd-analyze security %s | tail -1" % unit)
    return float(line.split("level for %s:" % unit)[1].split()[0])


def worker_pids(host, unit):
    """uvicorn's worker processes: children of the main process, spawned by multiprocessing."""
    parent = main_pid(host, unit)
    if parent == 0:
        return []
    out = host.run("ps -o pid=,args= --ppid %d" % parent).stdout
    return [int(line.split()[0]) for line in out.splitlines() if "multiprocessing.spawn" in line]


TLS_INFO = r'''
import http.client, json, ssl, sys
url_host, port, path, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
context = ssl.create_default_context(cafile=cafile)
connection = http.client.HTTPSConnection(url_host, port, context=context, timeout=15)
connection.request("GET", path)
response = connection.getresponse()
response.read()
cert = connection.sock.getpeercert()
print(json.dumps({"status": response.status, "headers": dict(response.getheaders()),
                  "serial": cert["serialNumber"], "not_before": cert["notBefore"],
                  "not_after": cert["notAfter"], "issuer": cert["issuer"],
                  "version": connection.sock.version()}))
'''


def tls_info(host, name, path="/", cafile="/etc/ssl/certs/ca-certificates.crt", port=443):
    """From a test host: one verified HTTPS request; status, headers and the served certificate."""
    result = host.run("python3 -c %s %s %d %s %s" % (
        shlex.quote(TLS_INFO), name, port, path, cafile))
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


def other_host(name):
    """A testinfra host of the scenario other than the one under test."""
    import testinfra
    return testinfra.get_host("ansible://" + name,
                              ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"])


class BackgroundLoop:
    """The request probe as a transient systemd unit on a host, so it runs
    while the controller deploys; bounded by its own count and duration."""

    def __init__(self, host, *args, name="asgi-loop"):
        self.host, self.name = host, name
        self.stop_file = "/run/%s.stop" % name
        self.output = "/run/%s.json" % name
        install_probe(host)
        host.run("rm -f %s %s; systemctl reset-failed %s.service" % (self.stop_file, self.output, name))
        result = host.run("systemd-run --unit %s --property RuntimeMaxSec=900 "
                          "--property StandardOutput=file:%s python3 /usr/local/bin/asgi_probe.py "
                          "--stop-file %s %s" % (name, self.output, self.stop_file, " ".join(args)))
        assert result.rc == 0, result.stderr

    def stop(self):
        """Ask the loop to end, wait for it, and return its summary."""
        self.host.run("touch %s" % self.stop_file)
        assert wait_for(lambda: self.host.run("systemctl is-active %s.service" % self.name).rc != 0, 120)
        return json.loads(self.host.file(self.output).content_string.strip().splitlines()[-1])


def row_ids(host, command):
    """The integers a command on the host prints, one per line: the ids of stored rows."""
    return {int(line) for line in host.check_output(command).split()}


def why(result):
    """The part of a playbook's output that says why it failed."""
    lines = result.stdout.splitlines()
    fatal = [line for line in lines if line.startswith(("fatal:", "failed:", "[ERROR]"))]
    return "\n".join(fatal[-5:] + lines[-15:])


# What a run could change on a host, as text to compare before and after a
# check-mode run: the app's files, units and config (by digest), its releases
# and symlinks, the processes serving, its history, lock and snapshots, and
# Caddy's and the firewall's files. Times are left out: logs and Caddy touch them.
HOST_STATE = ("md5sum /etc/systemd/system/{app}@* /etc/{app}/*.env /etc/caddy/Caddyfile /etc/caddy/sites.d/* "
              "/etc/asgi-deploy/firewall.nft /var/lib/asgi-deploy/{app}/history.jsonl 2>/dev/null; "
              "ls -1 /opt/{app}/releases /var/backups/asgi-deploy/{app}/* /var/lib/asgi-deploy/{app} 2>/dev/null; "
              "readlink /opt/{app}/current /opt/{app}/previous /run/{app}/{app}.sock; "
              "systemctl show -p MainPID -p ActiveState '{app}@*.service' caddy.service; "
              "pgrep -f '[u]vicorn|[m]ultiprocessing' | sort")


def host_state(host, app="example"):
    return host.run(HOST_STATE.format(app=app)).stdout


def task_lines(output, name):
    """(result, host) of each line a task of that name printed: ok, changed, skipping, failed or fatal;
    the host None where the line names none."""
    in_task = False
    for line in output.splitlines():
        if line.startswith("TASK ["):
            in_task = name in line
        elif in_task:
            found = re.match(r"^(ok|changed|skipping|failed|fatal): (?:\[([^\]]+)\])?", line)
            if found:
                yield found.groups()


def task_results(output, name):
    """The results (ok, changed, skipping, ...) a task of that name printed, once each."""
    return sorted(set(result for result, _host in task_lines(output, name)))


def task_hosts(output, name):
    """The hosts that printed a result other than skipping for a task of that name."""
    return set(host for result, host in task_lines(output, name) if result != "skipping" and host)


def recap_changes(output):
    """changed= of each host in a run's PLAY RECAP."""
    return {host: int(changed) for host, changed in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}
