"""The install step of a release, pip (what the app role ran before) against
uv (what it runs now), in a Debian 12 test container: seconds for the
example app's first install, for a new release whose dependencies did not
change (warm cache), and for a 60-package uv workspace member.

Prints a Markdown table (median, min and max of the runs). Run by hand:
    .venv/bin/python benchmarks/install_step.py
It needs the test image (scripts/setup-machine.sh debian12), uv beside the
tools (requirements-dev.txt) and the package index; it talks to nothing else.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
IMAGE = "asgi-deploy/debian12:latest"
NAME = "asgi-bench-install"
UV = shutil.which("uv", path=os.path.join(PROJECT, ".venv", "bin")) or shutil.which("uv")
RUNS = 3
# pip's resolver on loose ranges is the slow case this measures; past this it is stopped.
PIP_CAP = 240
# The real project of the lock-file issue, as far as its dependencies go.
BIG = '''[project]
name = "backend"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["fastapi[standard]", "sentry-sdk[fastapi]<2", "sqlmodel", "pydantic-settings",
                "psycopg[binary]", "alembic", "passlib[bcrypt]", "pyjwt", "emails", "tenacity", "httpx"]
'''


def sh(*argv, check=True, timeout=None):
    return subprocess.run(argv, check=check, capture_output=True, text=True, timeout=timeout)


def run_in(command, timeout=None):
    """Seconds a shell command took in the container; None past the timeout."""
    start = time.monotonic()
    try:
        result = sh("docker", "exec", NAME, "sh", "-c", command, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        sh("docker", "exec", NAME, "pkill", "-f", "pip install", check=False)
        return None
    if result.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (command, result.stderr[-2000:]))
    return time.monotonic() - start


def start_container():
    sh("docker", "rm", "-f", NAME, check=False)
    sh("docker", "run", "-d", "--name", NAME, "--memory", "2g", IMAGE, "sleep", "3600")
    sh("docker", "cp", "/etc/ssl/certs/ca-certificates.crt", NAME + ":/usr/local/share/ca-certificates/controller.crt")
    run_in("update-ca-certificates >/dev/null && apt-get update -qq && "
           "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null")
    sh("docker", "cp", UV, NAME + ":/usr/local/bin/uv")


def big_project(workdir):
    """A uv workspace whose member has the issue's ~60 packages, locked here."""
    root = os.path.join(workdir, "big")
    os.makedirs(os.path.join(root, "backend", "app"))
    with open(os.path.join(root, "pyproject.toml"), "w") as handle:
        handle.write('[tool.uv.workspace]\nmembers = ["backend"]\n')
    with open(os.path.join(root, "backend", "pyproject.toml"), "w") as handle:
        handle.write(BIG)
    sh(UV, "lock", "--directory", root)
    export = sh(UV, "export", "--frozen", "--no-dev", "--package", "backend", "--no-emit-workspace",
                "--directory", root).stdout
    with open(os.path.join(root, "backend", "requirements.lock"), "w") as handle:
        handle.write(export)
    return root, sum(1 for line in export.splitlines() if "==" in line)


def copy_in(src, dest):
    run_in("rm -rf %s && mkdir -p %s" % (dest, os.path.dirname(dest)))
    sh("docker", "cp", src, "%s:%s" % (NAME, dest))


UV_ENV = "UV_NATIVE_TLS=1 UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1 UV_CACHE_DIR=/var/cache/bench-uv"
PIP_ENV = "PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CACHE_DIR=/var/cache/bench-pip"


def pip_install(requirements, cold):
    clear = "rm -rf /var/cache/bench-pip; " if cold else ""
    return run_in("%srm -rf /tmp/v && python3 -m venv /tmp/v && %s /tmp/v/bin/pip install -q %s"
                  % (clear, PIP_ENV, requirements), timeout=PIP_CAP)


def uv_install(lock, cold, resolve_from=""):
    clear = "rm -rf /var/cache/bench-uv; " if cold else ""
    resolve = ("%s uv pip compile -q --python python3 %s -o %s && " % (UV_ENV, resolve_from, lock)
               if resolve_from else "")
    return run_in("%srm -rf /tmp/v && %s uv venv -q --python python3 /tmp/v && %s"
                  "%s uv pip install -q --python /tmp/v/bin/python -r %s" % (clear, UV_ENV, resolve, UV_ENV, lock))


def measure(label, tool, action, runs=RUNS):
    times = [action() for _run in range(runs)]
    done = [t for t in times if t is not None]
    if len(done) < len(times):
        cell = "> %d (stopped)" % PIP_CAP if not done else "%.1f (%d of %d stopped at %d s)" % (
            statistics.median(done), len(times) - len(done), len(times), PIP_CAP)
    else:
        cell = "%.1f (%.1f-%.1f)" % (statistics.median(done), min(done), max(done))
    print("| %s | %s | %s |" % (label, tool, cell), flush=True)


def main():
    if not UV:
        sys.exit("uv is not installed: pip install -r requirements-dev.txt")
    workdir = tempfile.mkdtemp(prefix="asgi-bench-install-")
    try:
        big, packages = big_project(workdir)
        start_container()
        copy_in(os.path.join(PROJECT, "examples", "app"), "/srv/example")
        copy_in(os.path.join(big, "backend"), "/srv/big")
        print("| install step | tool | seconds, median of %d (min-max) |" % RUNS)
        print("|---|---|---|")
        example = "-r /srv/example/requirements.txt 'uvicorn>=0.30'"
        run_in("printf 'uvicorn>=0.30\\n' > /srv/example/server.in")
        measure("example app, first install", "pip", lambda: pip_install(example, cold=True))
        measure("example app, first install", "uv", lambda: uv_install(
            "/srv/example/requirements.lock", cold=True,
            resolve_from="/srv/example/requirements.txt /srv/example/server.in"))
        measure("new release, same dependencies", "pip", lambda: pip_install(example, cold=False))
        measure("new release, same dependencies", "uv", lambda: uv_install("/srv/example/requirements.lock", cold=False))
        measure("%d-package workspace member, first install" % packages, "pip (ranges)",
                lambda: pip_install("/srv/big", cold=True), runs=1)
        measure("%d-package workspace member, first install" % packages, "uv (lock)",
                lambda: uv_install("/srv/big/requirements.lock", cold=True))
        measure("%d-package workspace member, same dependencies" % packages, "uv (lock)",
                lambda: uv_install("/srv/big/requirements.lock", cold=False))
    finally:
        sh("docker", "rm", "-f", NAME, check=False)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
