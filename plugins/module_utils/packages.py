# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a release's virtualenv holds exactly the packages recorded in its
requirements.lock, as `uv pip sync --dry-run` sees it (markers and hashes
included). Shared by the app_host and app_status modules and the
sync_changes filter."""

from __future__ import annotations

import os
import re

try:
    import tomllib
except ImportError:  # Python before 3.11: no project name, the app's own package is then reported
    tomllib = None


# Written in a release once uv has shown that its virtualenv holds exactly
# its requirements.lock (the app role's dependencies.yml). A release built
# before that check existed may hold more (its ASGI server was installed
# beside the lock): what it holds is not compared, so nothing calls it drift.
EXACT_SET = ".asgi-deploy-exact-set"


REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normal(name):
    """A project name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement):
    """The normalized project name a requirement line names, or ''."""
    found = REQUIREMENT_NAME.match(requirement)
    return normal(found.group(1)) if found else ""


def project_name(app_dir):
    """The name of the project in a release's app folder (pyproject.toml), or ''."""
    path = os.path.join(app_dir, "pyproject.toml")
    if tomllib is None or not os.path.isfile(path):
        return ""
    with open(path, "rb") as handle:
        try:
            data = tomllib.load(handle)
        except ValueError:
            return ""
    return data.get("project", {}).get("name", "") or data.get("tool", {}).get("poetry", {}).get("name", "")


def sync_changes(output, project=""):
    """What `uv pip sync --dry-run` would change: its '+ name==version' and
    '- name==version' lines, without the app's own project (installed beside
    the recorded set)."""
    lines = [line.strip() for line in (output or "").splitlines() if line.startswith((" + ", " - "))]
    own = normal(project) if project else ""
    return [line for line in lines if not (own and line.startswith("- ") and requirement_name(line[2:]) == own)]


def release_changes(run_command, uv, release_dir, environ=None):
    """What the release's virtualenv lacks or has beyond its recorded set, or
    None when that cannot be told (no uv, no venv, no requirements.lock, a
    release whose set was never shown to be exact)."""
    lock = os.path.join(release_dir, "requirements.lock")
    python = os.path.join(release_dir, "venv", "bin", "python")
    if not (uv and os.path.exists(uv) and os.path.exists(lock) and os.path.exists(python)
            and os.path.exists(os.path.join(release_dir, EXACT_SET))):
        return None
    rc, out, err = run_command([uv, "pip", "sync", "--dry-run", "--offline", "--python", python, lock],
                               environ_update=dict(environ or {}, UV_NO_PROGRESS="1"))
    if rc != 0:
        return None
    return sync_changes(out + "\n" + err, project_name(os.path.join(release_dir, "app")))
