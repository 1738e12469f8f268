# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: uv_install
short_description: The uv commands that build a release's virtualenv from its locked requirements
version_added: 0.2.0
description:
  - Given the install settings (a dict, the same one whose digest names the
    release) and the app's lock, returns what to resolve, once per deploy on
    one host, and the commands that install the release.
  - Without a lock, the project's and the requirements file's ranges are
    resolved, with the ASGI server and any extra requirements. With one that
    does not pin the ASGI server or an extra requirement, those are resolved
    against the lock's pins and added to it. Either way every host then
    installs one recorded set, C(requirements.lock) in the release, exactly
    (C(uv pip sync)); nothing is resolved on a host. The project itself,
    when it is one, goes in without its dependencies, which the set pins.
positional: _input
options:
  _input:
    description:
      - Install settings - C(uv) (binary), C(python) (interpreter for the
        virtualenv), C(release) (release folder), C(lock) (the lock's kind),
        C(project_file) (C(pyproject.toml), C(setup.py) or empty),
        C(has_requirements), C(install) (C(auto), C(project),
        C(requirements), C(both)), C(requirements_file), C(package) (a file
        name in the app folder or a requirement), C(uvicorn),
        C(extra_requirements), C(extra_args).
    type: dict
    required: true
  locked:
    description: The lock's pinned set, as requirement lines; empty without a lock.
    type: str
    default: ""
author:
  - asgi.deploy contributors (@asgi-deploy)
"""

EXAMPLES = r"""
- name: Install the release
  ansible.builtin.command:
    argv: "{{ item }}"
  loop: "{{ (settings | asgi.deploy.uv_install).install }}"
"""

RETURN = r"""
_value:
  description:
    - C(venv), the command that creates the virtualenv; C(resolve), the
      command that resolves what the lock does not pin (empty when it pins
      it all), with C(resolve_stdin) as its standard input; it prints the
      pinned set. C(install), the install commands, in order; C(check), the
      command that prints what C(install) would change (nothing, in a release
      whose virtualenv holds exactly its set).
  type: dict
"""


from ansible.errors import AnsibleFilterError
from ansible_collections.asgi.deploy.plugins.module_utils.packages import normal as _normal
from ansible_collections.asgi.deploy.plugins.module_utils.packages import requirement_name as _name
from ansible_collections.asgi.deploy.plugins.module_utils.packages import sync_changes

REQUIRED = ("uv", "python", "release", "lock", "project_file", "has_requirements", "install",
            "requirements_file", "package", "uvicorn", "extra_requirements", "extra_args")
INSTALL = ("auto", "project", "requirements", "both")


def uv_install(settings, locked=""):
    if not isinstance(settings, dict):
        raise AnsibleFilterError("uv_install: expected a dict of install settings, got %s" % type(settings).__name__)
    missing = [key for key in REQUIRED if key not in settings]
    if missing:
        raise AnsibleFilterError("uv_install: settings lack %s" % ", ".join(missing))
    if settings["install"] not in INSTALL:
        raise AnsibleFilterError("uv_install: install must be one of %s, got %r" % (", ".join(INSTALL), settings["install"]))
    release = settings["release"].rstrip("/")
    app_dir, venv = release + "/app", release + "/venv"
    python = venv + "/bin/python"
    install = settings["install"]
    package = settings["package"]
    project_file = settings["project_file"]
    want_project = not package and (install in ("project", "both") or (install == "auto" and bool(project_file)))
    if want_project and not project_file:
        raise AnsibleFilterError("uv_install: install is %r, but the app folder has no pyproject.toml or setup.py" % install)
    want_requirements = install in ("requirements", "both") or (install == "auto" and settings["has_requirements"])

    server = [settings["uvicorn"]] + list(settings["extra_requirements"])
    files, lines = [], []
    if settings["lock"] == "none":
        files = ([app_dir + "/" + project_file] if want_project else []) + \
            (["%s/%s" % (app_dir, settings["requirements_file"])] if want_requirements else [])
        if package:
            # A wheel or sdist was copied into the app folder; anything else is a requirement.
            is_file = package.endswith((".whl", ".tar.gz", ".zip"))
            lines.append("%s/%s" % (app_dir, package.rsplit("/", 1)[-1]) if is_file else package)
        lines += server
    else:
        # What the lock leaves out is resolved against its pins, once.
        pinned = set(_pins(locked))
        missing = [requirement for requirement in server if _name(requirement) not in pinned]
        lines = [line for line in (locked or "").splitlines() if line.strip()] + missing if missing else []

    uv, extra = settings["uv"], list(settings["extra_args"])
    # A lock with hashes gets its completion hashed too: every line of the
    # recorded set is then checked at install.
    hashes = ["--generate-hashes"] if "--hash" in (locked or "") else []
    commands = [[uv, "pip", "sync", "--python", python] + extra + [release + "/requirements.lock"]]
    if want_project:
        commands.append([uv, "pip", "install", "--python", python] + extra + ["--no-deps", app_dir])
    return {
        "venv": [uv, "venv", "--python", settings["python"], venv],
        "resolve_stdin": "".join(line + "\n" for line in lines),
        "resolve": ([uv, "pip", "compile", "--python", settings["python"], "--no-header", "--no-annotate", "--quiet"]
                    + hashes + extra + files + ["-"]) if lines else [],
        "install": commands,
        "check": ([uv, "pip", "sync", "--dry-run", "--offline", "--python", python] + extra
                  + [release + "/requirements.lock"]),
    }


def completed_set(locked, resolved):
    """The lock's text and, after it, the resolved entries (a requirement
    with its hash lines) of the packages it does not pin: the ASGI server
    and what it needs. Without a lock, every resolved entry."""
    pinned = set(_pins(locked))
    entries = []
    for line in (resolved or "").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[:1].isspace() and entries:
            entries[-1].append(line)
        else:
            entries.append([line])
    added = [entry for entry in entries if _name(entry[0]) not in pinned]
    text = (locked or "").rstrip("\n")
    return (text + "\n" if text else "") + "".join("\n".join(entry) + "\n" for entry in added)


def _pins(text):
    pins = {}
    for line in (text or "").replace("\\\n", " ").splitlines():
        line = line.split("#", 1)[0].strip()
        requirement = line.split(";", 1)[0].split(" --hash", 1)[0].strip()
        if "==" in requirement and not line.startswith("-"):
            name, version = requirement.split("==", 1)
            pins[_normal(name.split("[")[0].strip())] = version.strip()
    return pins


def requirements_diff(new, old):
    """One line per package added, removed or changed between two locked sets."""
    before, after = _pins(old), _pins(new)
    lines = []
    for name in sorted(set(before) | set(after)):
        if name not in before:
            lines.append("+ %s %s" % (name, after[name]))
        elif name not in after:
            lines.append("- %s %s" % (name, before[name]))
        elif before[name] != after[name]:
            lines.append("~ %s %s -> %s" % (name, before[name], after[name]))
    return lines


class FilterModule:
    def filters(self):
        return {"uv_install": uv_install, "requirements_diff": requirements_diff, "completed_set": completed_set,
                "sync_changes": sync_changes}
