#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_status
short_description: What an app host serves now, in one read
version_added: 0.5.0
description:
  - For one app deployed by this collection - its current and previous
    releases, when and by whom the current one was deployed (from the deploy
    history), the serving slot's service with its uptime and the restarts
    systemd made since it started (C(NRestarts), so since the deploy), the
    memory of uvicorn's main process and of each worker, one health request
    over the app's stable socket path, the deploy lock's holder if any, and
    the last lines of the deploy history.
  - Read only. The playbook C(asgi.deploy.status) prints it as a table with
    the filter M(asgi.deploy.status_table).
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  name:
    description: The app's name (O(asgi.deploy.app#role:main:app_name)).
    type: str
    required: true
  root:
    description: The app's folder, with its C(current) and C(previous) links.
    type: path
    required: true
  deploy_dir:
    description: The app's folder of its deploy lock and history.
    type: path
    required: true
  socket:
    description: The app's stable socket path, for the health request.
    type: path
    required: true
  health_path:
    description: The path of the health request.
    type: str
    default: /
  history_lines:
    description: How many of the last history lines to return.
    type: int
    default: 5
  uv:
    description: The uv binary, to compare the current release's virtualenv with its C(requirements.lock).
    type: path
  uv_env:
    description: The environment uv runs with (its cache).
    type: dict
    default: {}
extends_documentation_fragment:
  - asgi.deploy.attributes.read_only
"""

EXAMPLES = r"""
- name: Read what serves the app
  asgi.deploy.app_status:
    name: example
    root: /opt/example
    deploy_dir: /var/lib/asgi-deploy/example
    socket: /run/example/example.sock
    health_path: /health
  register: status
"""

RETURN = r"""
status:
  description: The app on this host.
  returned: always
  type: dict
  contains:
    packages:
      description:
        - What the current release's virtualenv has beyond or lacks of its
          C(requirements.lock) (C(+ name==version) to install, C(- name==version)
          to remove); empty when it holds exactly that set, null when that
          cannot be told (no O(uv), no current release).
      type: list
      elements: str
  sample:
    app: example
    current: "20261130-d4e5f6"
    previous: "20261130-a1b2c3"
    deployed: {time: "2026-11-30T20:14:03Z", by: ops@laptop, playbook: site.yml}
    unit: example@green.service
    active: active
    uptime_s: 3600
    restarts: 0
    main: {pid: 812, rss_mb: 24.1}
    workers: [{pid: 830, rss_mb: 61.5}, {pid: 831, rss_mb: 60.9}]
    health: {status: 200, error: null, ms: 3}
    lock: null
    packages: []
    history: [{time: "2026-11-30T20:14:03Z", action: deploy, result: ok, by: ops@laptop, playbook: site.yml,
               from: "20261130-a1b2c3", to: "20261130-d4e5f6", seconds: 41, step: ""}]
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.asgi.deploy.plugins.module_utils.capacity import read_text
from ansible_collections.asgi.deploy.plugins.module_utils.serving import (
    ask, processes, release_of, rss_mb, started_after_boot, workers_of)
from ansible_collections.asgi.deploy.plugins.module_utils.layout import serving_unit
from ansible_collections.asgi.deploy.plugins.module_utils.packages import release_changes


def history(path, lines):
    records = []
    for line in (read_text(path) or "").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records, records[-lines:] if lines > 0 else []


def deployed(records, current):
    """The last run that put the current release in place and went well."""
    for record in reversed(records):
        if record.get("result") == "ok" and record.get("to") == current:
            return {key: record.get(key) for key in ("time", "by", "playbook", "action")}
    return None


def uptime_s(pid):
    """Seconds since a process started, or None."""
    since_boot, uptime = started_after_boot(pid), read_text("/proc/uptime")
    if since_boot is None or not uptime:
        return None
    return int(float(uptime.split()[0]) - since_boot)


def show(module, unit):
    systemctl = module.get_bin_path("systemctl", required=True)
    rc, out, _err = module.run_command([systemctl, "show", "--property=MainPID,ActiveState,NRestarts", unit])
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line) if rc == 0 else {}
    return values


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            root=dict(type="path", required=True),
            deploy_dir=dict(type="path", required=True),
            socket=dict(type="path", required=True),
            health_path=dict(type="str", default="/"),
            history_lines=dict(type="int", default=5),
            uv=dict(type="path"),
            uv_env=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    name, root, deploy_dir = module.params["name"], module.params["root"], module.params["deploy_dir"]
    current = release_of(os.path.join(root, "current"))
    if not current and not os.path.isdir(root):
        module.fail_json(msg="app_status: app %s is not deployed on this host (no %s)" % (name, root))
    records, last = history(os.path.join(deploy_dir, "history.jsonl"), module.params["history_lines"])
    unit = serving_unit(name)
    values = show(module, unit)
    main_pid = int(values.get("MainPID") or 0)
    started = time.monotonic()
    status, error, _first = ask(module.params["socket"], module.params["health_path"], 5.0)
    lock = None
    try:
        with open(os.path.join(deploy_dir, "lock.json")) as handle:
            lock = json.load(handle)
        lock["age_s"] = int(time.time()) - lock.get("taken", int(time.time()))
    except (OSError, ValueError):
        lock = None
    module.exit_json(changed=False, status={
        "app": name,
        "current": current,
        "previous": release_of(os.path.join(root, "previous")),
        "deployed": deployed(records, current),
        "unit": unit,
        "active": values.get("ActiveState", "unknown"),
        "uptime_s": uptime_s(main_pid) if main_pid else None,
        "restarts": int(values["NRestarts"]) if values.get("NRestarts", "").isdigit() else None,
        "main": {"pid": main_pid, "rss_mb": rss_mb(main_pid)} if main_pid else None,
        "workers": workers_of(main_pid, processes()) if main_pid else [],
        "health": {"status": status, "error": error, "ms": int((time.monotonic() - started) * 1000)},
        "lock": lock,
        "packages": release_changes(module.run_command, module.params["uv"], os.path.realpath(os.path.join(root, "current")),
                                    module.params["uv_env"]) if current else None,
        "history": last,
    })


if __name__ == "__main__":
    main()
