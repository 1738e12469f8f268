# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dependency_lock action's work, on the controller: an app's lock as pinned requirements."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess

try:
    import tomllib
except ImportError:  # Python < 3.11 on the controller
    tomllib = None

try:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import Version
except ImportError:  # ansible-core depends on packaging; this is only for sanity's import test
    SpecifierSet = None

LOCKS = ("uv.lock", "poetry.lock", "pylock.toml")
PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*===?\s*[^\s;=<>!~,]+\s*(;.*)?$")


class LockError(ValueError):
    pass


def read_toml(path):
    if tomllib is None:
        raise LockError("reading %s needs Python 3.11 or newer on the controller" % os.path.basename(path))
    with open(path, "rb") as handle:
        try:
            return tomllib.load(handle)
        except ValueError as exc:
            raise LockError("%s is not valid TOML: %s" % (path, exc))


def logical_lines(text):
    """Requirement lines with continuations joined and comments dropped."""
    joined = re.sub(r"\\\r?\n", " ", text)
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            yield line


def locked_requirements(text):
    """True when the requirements are a lock: every requirement pins one
    version and carries its hashes (index options allowed). Hashes are what
    tells a lock from a file that pins only the app's own dependencies: a
    tool writes them for the whole resolved set (`uv pip compile
    --generate-hashes`, `pip-compile --generate-hashes`), and an install in
    hash-checking mode refuses any package without one."""
    found = False
    for line in logical_lines(text):
        if line.startswith(("--index-url", "--extra-index-url", "--find-links", "-i ", "--trusted-host")):
            continue
        parts = re.split(r"\s--hash[=\s]", line)
        requirement = parts[0].strip()
        if requirement.startswith("-") or not PINNED.match(requirement) or len(parts) < 2:
            return False
        found = True
    return found


def requirement_line(name, version, marker="", hashes=(), url=""):
    line = "%s @ %s" % (name, url) if url else "%s==%s" % (name, version)
    if marker:
        line += " ; " + marker
    return " ".join([line] + ["--hash=%s" % h for h in hashes]) + "\n"


POETRY_KEYS = ("dependencies", "source", "extras", "dev-dependencies", "group")
POETRY_LEGACY_KEYS = ("dependencies", "source", "extras", "dev-dependencies")
POETRY_PROJECT_KEYS = ("requires-python", "dependencies", "optional-dependencies")


def poetry_content_hash(pyproject, groups=True):
    """The content-hash Poetry writes into poetry.lock for a pyproject.toml: the
    sha256 of the JSON of the sections that decide the locked set. Poetry
    before 2.3 left [dependency-groups] out (groups=False)."""
    project = {key: value for key, value in pyproject.get("project", {}).items()
               if key in POETRY_PROJECT_KEYS and value is not None}
    dependency_groups = pyproject.get("dependency-groups", {}) if groups else {}
    tool = pyproject.get("tool", {}).get("poetry", {})
    relevant = {}
    for key in POETRY_KEYS:
        value = tool.get(key)
        if value is None and (key not in POETRY_LEGACY_KEYS or project or dependency_groups):
            continue
        relevant[key] = value
    content = {}
    if project:
        content["project"] = project
    if dependency_groups:
        content["dependency-groups"] = dependency_groups
    content = dict(content, tool={"poetry": relevant}) if content else relevant
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def check_poetry_fresh(lock_path, data, app_dir):
    """Refuse a poetry.lock whose content-hash no longer matches its pyproject.toml."""
    locked = data.get("metadata", {}).get("content-hash", "")
    pyproject_path = os.path.join(os.path.dirname(lock_path), "pyproject.toml")
    if not locked or not os.path.isfile(pyproject_path):
        return
    pyproject = read_toml(pyproject_path)
    if locked not in (poetry_content_hash(pyproject), poetry_content_hash(pyproject, groups=False)):
        raise LockError("%s is stale: its content-hash does not match %s. Refresh it with `poetry lock` in %s, "
                        "test, and commit it" % (lock_path, pyproject_path, os.path.dirname(lock_path)))


def from_poetry(data):
    """The main group of a poetry.lock (lock formats 1.x and 2.x)."""
    lines = []
    for package in data.get("package", []):
        groups = package.get("groups")
        main = "main" in groups if groups is not None else package.get("category", "main") == "main"
        if not main or package.get("optional", False):
            continue
        marker = package.get("markers", "")
        if isinstance(marker, dict):
            marker = marker.get("main", "")
        source = package.get("source") or {}
        kind = source.get("type")
        url = ""
        if kind == "git":
            url = "git+%s@%s" % (source["url"], source.get("resolved_reference") or source.get("reference"))
        elif kind == "url":
            url = source["url"]
        elif kind not in (None, "legacy"):
            raise LockError("poetry.lock: %s comes from a %s source (%s), which a deploy cannot carry to the hosts; "
                            "publish it to an index or use a git or URL source"
                            % (package["name"], kind, source.get("url", "")))
        hashes = [f["hash"] for f in package.get("files", []) if f.get("hash", "").startswith("sha256:")]
        lines.append(requirement_line(package["name"], package["version"], marker, [] if url else hashes, url))
    return "".join(sorted(lines))


def from_pylock(data):
    """Every package of a PEP 751 pylock.toml, with its wheels' and sdist's hashes."""
    lines = []
    for package in data.get("packages", []):
        name, marker = package["name"], package.get("marker", "")
        if "vcs" in package:
            vcs = package["vcs"]
            url = "%s+%s@%s" % (vcs.get("type", "git"), vcs["url"], vcs.get("commit-id") or vcs.get("requested-revision"))
            lines.append(requirement_line(name, "", marker, url=url))
            continue
        if "directory" in package:
            raise LockError("pylock.toml: %s is a local directory (%s), which a deploy cannot carry to the hosts"
                            % (name, package["directory"].get("path", "")))
        if "archive" in package:
            archive = package["archive"]
            hashes = ["sha256:" + archive["hashes"]["sha256"]] if "sha256" in archive.get("hashes", {}) else []
            lines.append(requirement_line(name, "", marker, hashes, url=archive["url"]))
            continue
        if "version" not in package:
            raise LockError("pylock.toml: %s has no version" % name)
        files = list(package.get("wheels", [])) + ([package["sdist"]] if "sdist" in package else [])
        hashes = ["sha256:" + f["hashes"]["sha256"] for f in files if "sha256" in f.get("hashes", {})]
        lines.append(requirement_line(name, package["version"], marker, hashes))
    return "".join(sorted(lines))


def project_name(app_dir):
    path = os.path.join(app_dir, "pyproject.toml")
    if not os.path.exists(path):
        return ""
    data = read_toml(path)
    return data.get("project", {}).get("name", "") or data.get("tool", {}).get("poetry", {}).get("name", "")


def from_uv(uv, lock_dir, app_dir):
    if not uv:
        raise LockError("%s is a uv lock; reading it needs uv on the controller: `pip install uv` beside "
                        "Ansible (or set app_lock: none to resolve instead)" % os.path.join(lock_dir, "uv.lock"))
    name = project_name(app_dir)
    argv = [uv, "export", "--locked", "--offline", "--no-dev", "--no-emit-project", "--no-header",
            "--no-annotate", "--format", "requirements-txt"] + (["--package", name] if name else [])
    result = subprocess.run(argv, cwd=lock_dir, capture_output=True, text=True, check=False,
                            env=dict(os.environ, UV_NO_PROGRESS="1"))
    if result.returncode != 0:
        # A lock that matches its project is checked without the network; one
        # that does not either says so or, when the change names a package uv
        # has not cached, fails to resolve offline.
        if "needs to be updated" in result.stderr or "network was disabled" in result.stderr:
            raise LockError("%s is stale: it does not match its pyproject.toml. Refresh it with `uv lock` in %s, "
                            "test, and commit it" % (os.path.join(lock_dir, "uv.lock"), lock_dir))
        raise LockError("uv export in %s failed: %s" % (lock_dir, result.stderr.strip()[-800:]))
    members = [line for line in logical_lines(result.stdout) if line.startswith(("-e ", "./", "../", "file:"))]
    if members:
        raise LockError("the app needs other members of its uv workspace (%s), but only %s is deployed; "
                        "deploy the workspace root as app_src with app_subdir unset, or publish them"
                        % (", ".join(members), app_dir))
    return result.stdout


def project_file(app_dir):
    """The file that makes the app folder an installable project, if any."""
    path = os.path.join(app_dir, "pyproject.toml")
    if os.path.isfile(path):
        data = read_toml(path)
        if "project" in data or "build-system" in data or "poetry" in data.get("tool", {}):
            return "pyproject.toml"
    return "setup.py" if os.path.isfile(os.path.join(app_dir, "setup.py")) else ""


def find_lock(src, subdir, requirements_file):
    """(kind, path) of the nearest lock from the app folder up to src; (none, '') without one."""
    app_dir = os.path.normpath(os.path.join(src, subdir))
    folder = app_dir
    while True:
        for name in LOCKS:
            if os.path.isfile(os.path.join(folder, name)):
                return name, os.path.join(folder, name)
        if folder == app_dir:
            requirements = os.path.join(app_dir, requirements_file)
            if os.path.isfile(requirements):
                with open(requirements) as handle:
                    if locked_requirements(handle.read()):
                        return "requirements", requirements
        if folder == os.path.normpath(src) or os.path.dirname(folder) == folder:
            return "none", ""
        folder = os.path.dirname(folder)


def requires_python(app_dir, kind, lock_path):
    """The app's requires-python: a uv lock's (the workspace's), else its pyproject's."""
    if kind == "uv.lock":
        spec = read_toml(lock_path).get("requires-python", "")
        if spec:
            return spec, lock_path
    path = os.path.join(app_dir, "pyproject.toml")
    if os.path.exists(path):
        return read_toml(path).get("project", {}).get("requires-python", ""), path
    return "", ""


def check_pythons(spec, where, pythons):
    if not spec or not pythons or SpecifierSet is None:
        return
    try:
        allowed = SpecifierSet(spec)
    except InvalidSpecifier:
        raise LockError("requires-python %r in %s is not a version specifier" % (spec, where))
    refused = ["%s has Python %s" % (host, version) for host, version in sorted(pythons.items())
               if not allowed.contains(Version(version), prereleases=True)]
    if refused:
        raise LockError("the app requires Python %s (requires-python in %s), but %s. Install a Python it "
                        "allows on the host and point app_python at it" % (spec, where, "; ".join(refused)))


def read_lock(src, subdir, mode, requirements_file, pythons, uv):
    app_dir = os.path.normpath(os.path.join(src, subdir))
    kind, path = ("none", "") if mode == "none" else find_lock(src, subdir, requirements_file)
    if kind == "none" and mode == "required":
        raise LockError("app_lock is 'required', but there is no lock for %s: looked for %s from there up to %s, "
                        "and for a %s in the app folder that pins every package with its hashes (write it with "
                        "`uv pip compile --generate-hashes` or `pip-compile --generate-hashes`; a file that pins only "
                        "the app's own dependencies is resolved once per deploy instead, with app_lock: auto)"
                        % (app_dir, ", ".join(LOCKS), os.path.normpath(src), requirements_file))
    spec, where = requires_python(app_dir, kind, path)
    check_pythons(spec, where, pythons)
    if kind == "uv.lock":
        text = from_uv(uv, os.path.dirname(path), app_dir)
    elif kind == "poetry.lock":
        data = read_toml(path)
        check_poetry_fresh(path, data, app_dir)
        text = from_poetry(data)
    elif kind == "pylock.toml":
        text = from_pylock(read_toml(path))
    elif kind == "requirements":
        with open(path) as handle:
            text = handle.read()
    else:
        text = ""
    return dict(kind=kind, path=os.path.relpath(path, src) if path else "", requirements=text,
                digest=hashlib.sha256(text.encode()).hexdigest(), requires_python=spec,
                project_file=project_file(app_dir), project=project_name(app_dir),
                has_requirements=os.path.isfile(os.path.join(app_dir, requirements_file)))


ARGUMENT_SPEC = dict(
    src=dict(type="path", required=True),
    subdir=dict(type="str", default=""),
    mode=dict(type="str", choices=["auto", "none", "required"], default="auto"),
    requirements_file=dict(type="str", default="requirements.txt"),
    pythons=dict(type="dict", default={}),
)
