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
    release), returns what to resolve when there is no lock and the commands
    that install the release.
  - The locked set (C(requirements.lock) in the release) is installed as it
    is, with the ASGI server and any extra requirements beside it; the
    project itself, when it is one, goes in without its dependencies, which
    the lock already pins.
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
      command that resolves the app's requirements when there is no lock
      (empty with one), with C(resolve_stdin) as its standard input; it
      prints the pinned set. C(install), the install commands, in order.
  type: dict
"""

from ansible.errors import AnsibleFilterError

REQUIRED = ("uv", "python", "release", "lock", "project_file", "has_requirements", "install",
            "requirements_file", "package", "uvicorn", "extra_requirements", "extra_args")
INSTALL = ("auto", "project", "requirements", "both")


def uv_install(settings):
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

    files, lines = [], []
    if settings["lock"] == "none":
        files = ([app_dir + "/" + project_file] if want_project else []) + \
            (["%s/%s" % (app_dir, settings["requirements_file"])] if want_requirements else [])
        if package:
            # A wheel or sdist was copied into the app folder; anything else is a requirement.
            is_file = package.endswith((".whl", ".tar.gz", ".zip"))
            lines.append("%s/%s" % (app_dir, package.rsplit("/", 1)[-1]) if is_file else package)
        lines += [settings["uvicorn"]] + list(settings["extra_requirements"])

    pip = [settings["uv"], "pip", "install", "--python", python] + list(settings["extra_args"])
    commands = [pip + ["--requirements", release + "/requirements.lock", settings["uvicorn"]]
                + list(settings["extra_requirements"])]
    if want_project:
        commands.append(pip + ["--no-deps", app_dir])
    return {
        "venv": [settings["uv"], "venv", "--python", settings["python"], venv],
        "resolve_stdin": "".join(line + "\n" for line in lines),
        "resolve": ([] if settings["lock"] != "none" else
                    [settings["uv"], "pip", "compile", "--python", settings["python"], "--no-header", "--quiet"]
                    + list(settings["extra_args"]) + files + ["-"]),
        "install": commands,
    }


def _pins(text):
    pins = {}
    for line in (text or "").replace("\\\n", " ").splitlines():
        line = line.split("#", 1)[0].strip()
        requirement = line.split(";", 1)[0].split(" --hash", 1)[0].strip()
        if "==" in requirement and not line.startswith("-"):
            name, version = requirement.split("==", 1)
            pins[name.split("[")[0].strip().lower().replace("_", "-")] = version.strip()
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
        return {"uv_install": uv_install, "requirements_diff": requirements_diff}
