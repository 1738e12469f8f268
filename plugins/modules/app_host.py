#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_host
short_description: Read, in one call, everything a deploy of an app needs to know about a host
version_added: 0.6.0
description:
  - The memory and CPUs the host can use (as M(asgi.deploy.capacity_facts)),
    what its names, ports and memory belong to (as
    M(asgi.deploy.host_claims)), the version of the app's Python, and how the
    app runs there now - which slot serves, the current and previous
    release, each unit's state, the workers of the serving slot, and the
    releases that finished building.
  - Read only. The filter P(asgi.deploy.app_plan#filter) turns the result and
    the app's settings into the deploy's plan.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  app:
    description: The app's name.
    type: str
    required: true
  python:
    description: The interpreter the app's releases are built with, a path or a command; its version is read.
    type: str
    default: python3
  claims_dir:
    description: Folder of the apps' claim files.
    type: path
    default: /etc/asgi-deploy/apps
  packages:
    description: Debian packages the app needs; those not installed are returned as RV(missing_packages).
    type: list
    elements: str
    default: []
  uv:
    description: The uv binary, to tell whether the current release's virtualenv still holds its recorded set.
    type: path
  uv_env:
    description: The environment uv runs with (its cache; the check is offline).
    type: dict
    default: {}
extends_documentation_fragment:
  - asgi.deploy.attributes.read_only
"""

EXAMPLES = r"""
- name: Read the host
  asgi.deploy.app_host:
    app: shop
    python: python3.12
  register: app__host
"""

RETURN = r"""
capacity:
  description: What M(asgi.deploy.capacity_facts) reports as C(asgi_capacity).
  returned: always
  type: dict
  sample: {memory_mb: 1024, cpus: 2.0}
claims:
  description: What M(asgi.deploy.host_claims) returns.
  returned: always
  type: dict
others_reserved_mb:
  description: The memory each other app of this collection on the host reserves (its serving slot's C(MemoryMax=)), in MiB.
  returned: always
  type: dict
  sample: {notes: 320}
missing_packages:
  description: The packages of O(packages) that are not installed.
  returned: always
  type: list
  elements: str
uv_present:
  description: Whether O(uv) is there and runs (a deploy then does not fetch it).
  returned: always
  type: bool
python:
  description: C(version) of O(python), or C(error) when it does not run.
  returned: always
  type: dict
  sample: {version: 3.11.2, error: ""}
slots:
  description: How the app runs on the host now.
  returned: always
  type: dict
  contains:
    live:
      description: The slot the stable socket path links to, or an empty string.
      type: str
    current:
      description: The release C(current) names, or an empty string; likewise C(previous).
      type: str
    units:
      description: Each slot, TCP and legacy unit's C(load), C(active), C(enabled) and C(memory_mb).
      type: dict
    serving:
      description: Whether the live slot's socket and service are both active and enabled.
      type: bool
    live_running:
      description: Whether the live slot's service runs (it holds memory a new release must share).
      type: bool
    live_workers:
      description: Workers the live slot's main process runs now (0 for a single uvicorn process).
      type: int
    held:
      description: Slots a switch left running with fewer workers than their unit says, with that count.
      type: dict
    strays:
      description: Units of the other slot that are active (a run stopped between starting a release and switching).
      type: list
      elements: str
    legacy:
      description: Whether the single-slot units of collection versions before 0.3 are installed.
      type: bool
    tcp_installed:
      description: Whether the TCP front's socket is installed; C(tcp_serving), whether it is active and enabled.
      type: bool
    releases:
      description: The releases whose build finished, newest first.
      type: list
      elements: str
    release_dirs:
      description: Every folder under the releases folder, finished or not, newest first.
      type: list
      elements: str
    credentials:
      description: Per slot, the names of the secret files in its credentials folder (none when it has none).
      type: dict
    drift:
      description:
        - What the current release's virtualenv holds beyond or lacks of its
          C(requirements.lock) (C(+ name==version) to install, C(- name==version)
          to remove, as C(uv pip sync --dry-run) says); empty when it holds
          exactly that set, null when that cannot be told (no O(uv), or a
          release built before its set was checked).
      type: list
      elements: str
files:
  description:
    - The sha256 of each file the app role writes for the app's slots and TCP
      front (unit files, environment files, the one-off command), by path;
      null for a file that is not there. A deploy compares them with what it
      would write, so a file changed by hand is noticed and put back.
  returned: always
  type: dict
"""

import hashlib
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.asgi.deploy.plugins.module_utils.capacity import host_capacity
from ansible_collections.asgi.deploy.plugins.module_utils.claims import CLAIMS_DIR, host_claims
from ansible_collections.asgi.deploy.plugins.module_utils.layout import SLOTS, app_layout, other_slot, slot_of_link
from ansible_collections.asgi.deploy.plugins.module_utils.packages import release_changes
from ansible_collections.asgi.deploy.plugins.module_utils.serving import release_of, worker_pids

# Marks a release whose virtualenv finished installing (the app role writes it last).
COMPLETE = ".asgi-deploy-complete"
RUNNING = ("active", "activating", "reloading", "deactivating")


def parse_show(text):
    """{unit: {load, active, enabled, memory_mb, main_pid}} from `systemctl show` blocks."""
    units = {}
    for block in text.strip().split("\n\n"):
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if "Id" not in fields:
            continue
        used, pid = fields.get("MemoryCurrent", ""), fields.get("MainPID", "")
        units[fields["Id"]] = {"load": fields.get("LoadState", ""), "active": fields.get("ActiveState", ""),
                               "enabled": fields.get("UnitFileState", ""),
                               "memory_mb": int(used) // (1 << 20) if used.isdigit() else 0,
                               "main_pid": int(pid) if pid.isdigit() else 0}
    return units


def slot_state(layout, units, live, holds):
    """What serves, from the stable path's slot and the units' states."""
    def unit(name):
        return units.get(name, {})

    paths = layout["slots"]
    following = other_slot(live)
    service = unit(paths[live]["service_unit"]) if live else {}
    serving = bool(live) and all(unit(paths[live][kind]).get("active") == "active"
                                 and unit(paths[live][kind]).get("enabled") == "enabled"
                                 for kind in ("socket_unit", "service_unit"))
    tcp = unit(layout["tcp_units"][0])
    return {
        "live": live,
        "serving": serving,
        "live_running": service.get("active") in RUNNING,
        "live_memory_mb": service.get("memory_mb", 0),
        "strays": [paths[following][kind] for kind in ("socket_unit", "service_unit")
                   if unit(paths[following][kind]).get("active") in RUNNING],
        "legacy": any(unit(name).get("load") == "loaded" for name in layout["legacy_units"]),
        "tcp_installed": tcp.get("load") == "loaded",
        "tcp_serving": tcp.get("active") == "active" and tcp.get("enabled") == "enabled",
        "held": holds,
        "units": units,
    }


def read_holds(layout):
    """{slot: workers} of the slots a switch holds below their unit's count."""
    holds = {}
    for slot in SLOTS:
        try:
            with open(layout["slots"][slot]["workers_file"]) as handle:
                value = handle.read().strip().partition("=")[2]
        except OSError:
            continue
        holds[slot] = int(value) if value.isdigit() else 0
    return holds


def release_dirs(releases):
    """Every folder under the releases folder, newest first."""
    try:
        names = [name for name in os.listdir(releases) if os.path.isdir(os.path.join(releases, name))]
    except OSError:
        return []
    return sorted(names, key=lambda name: os.path.getmtime(os.path.join(releases, name)), reverse=True)


def finished_releases(releases):
    """Release ids whose build finished, newest first."""
    return [name for name in release_dirs(releases) if os.path.exists(os.path.join(releases, name, COMPLETE))]


def managed_files(layout):
    """The files of the app's slots and TCP front that the role writes."""
    units = [name for slot in SLOTS for name in (layout["slots"][slot]["socket_unit"],
                                                 layout["slots"][slot]["service_unit"])] + layout["tcp_units"]
    return (["/etc/systemd/system/" + name for name in units]
            + [layout["slots"][slot]["env_file"] for slot in SLOTS] + [layout["run_command"]])


def digests(paths):
    found = {}
    for path in paths:
        try:
            with open(path, "rb") as handle:
                found[path] = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            found[path] = None
    return found


def missing_packages(module, packages):
    """The packages dpkg does not know as installed."""
    if not packages:
        return []
    dpkg_query = module.get_bin_path("dpkg-query")
    if not dpkg_query:
        return list(packages)
    _rc, out, _err = module.run_command([dpkg_query, "--show", "--showformat", "${Package} ${db:Status-Status}\\n"]
                                        + list(packages))
    installed = {line.split()[0] for line in out.splitlines() if line.endswith(" installed")}
    return [name for name in packages if name not in installed]


def python_version(module, python):
    try:
        rc, out, err = module.run_command([python, "-c", "import platform; print(platform.python_version())"],
                                          handle_exceptions=False)
    except OSError as error:
        return {"version": "", "error": error.strerror or str(error)}
    if rc != 0:
        return {"version": "", "error": (err or out).strip() or "exit %d" % rc}
    return {"version": out.strip(), "error": ""}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            app=dict(type="str", required=True),
            python=dict(type="str", default="python3"),
            claims_dir=dict(type="path", default=CLAIMS_DIR),
            packages=dict(type="list", elements="str", default=[]),
            uv=dict(type="path"),
            uv_env=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    name = module.params["app"]
    layout = app_layout(name)
    systemctl = module.get_bin_path("systemctl", required=True)
    try:
        capacity = host_capacity()
        claims = host_claims(module.run_command, systemctl, module.params["claims_dir"])
    except (ValueError, RuntimeError) as error:
        module.fail_json(msg="app_host: %s" % error)
    names = ([layout["slots"][slot][kind] for slot in SLOTS for kind in ("socket_unit", "service_unit")]
             + layout["legacy_units"] + layout["tcp_units"])
    rc, show, err = module.run_command(
        [systemctl, "show", "--property=Id,LoadState,ActiveState,UnitFileState,MemoryCurrent,MainPID"] + names)
    if rc != 0:
        module.fail_json(msg="app_host: systemctl show failed: %s" % err.strip())
    units = parse_show(show)
    try:
        live = slot_of_link(os.readlink(layout["socket"]))
    except OSError:
        live = ""
    slots = slot_state(layout, units, live, read_holds(layout))
    pid = units.get(layout["slots"][live]["service_unit"], {}).get("main_pid", 0) if live else 0
    slots.update({"current": release_of(layout["current"]), "previous": release_of(layout["previous"]),
                  "live_workers": len(worker_pids(pid)) if pid else 0,
                  "releases": finished_releases(layout["releases"]),
                  "release_dirs": release_dirs(layout["releases"]),
                  "credentials": dict((slot, sorted(os.listdir(layout["slots"][slot]["credentials"])))
                                      for slot in SLOTS if os.path.isdir(layout["slots"][slot]["credentials"])),
                  "drift": release_changes(module.run_command, module.params["uv"],
                                           os.path.realpath(layout["current"]), module.params["uv_env"])
                  if os.path.islink(layout["current"]) else None})
    module.exit_json(
        changed=False, capacity=capacity, claims=claims,
        others_reserved_mb=dict((app, memory["reserved_mb"]) for app, memory in claims["memory"].items()
                                if app != name),
        python=python_version(module, module.params["python"]), slots=slots,
        missing_packages=missing_packages(module, module.params["packages"]),
        uv_present=bool(module.params["uv"]) and os.access(module.params["uv"], os.X_OK),
        files=digests(managed_files(layout)))


if __name__ == "__main__":
    main()
