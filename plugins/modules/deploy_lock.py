#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_lock
short_description: Take or give back an app's deploy lock, and keep its deploy history
version_added: 0.5.0
description:
  - One lock per app and host, a file in O(path) naming the run that holds it
    (O(run)) and when it took it. Taking it is atomic - the file appears
    whole or not at all - so of two runs only one gets it.
  - A lock another run holds is not taken and not an error here - RV(acquired)
    is false and RV(holder) names that run - so the caller can say who holds
    it, from the controller, where it can tell whether that run still runs.
    O(break_lock) takes it anyway and returns the holder it broke.
  - Giving it back with O(result) appends one line to the app's history
    (C(history.jsonl) in O(path), JSON per line) - when, who, which playbook,
    the release before and after, the result, how long since the lock was
    taken, the step that failed - keeping the last O(history_keep) lines.
    Only the run that holds the lock writes it, so a run whose lock is gone
    (given back already, or broken) adds no line.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  name:
    description: The app's name, for messages.
    type: str
    required: true
  path:
    description: The app's folder for its lock and history, created when missing.
    type: path
    required: true
  state:
    description: C(locked) to take the lock, C(unlocked) to give it back.
    type: str
    choices: [locked, unlocked]
    default: locked
  run:
    description:
      - The run taking or giving back the lock, as P(asgi.deploy.run_info#lookup)
        returns it. Only the run whose C(id) the lock holds gives it back.
    type: dict
    required: true
  break_lock:
    description: Take the lock even when another run holds it.
    type: bool
    default: false
  current:
    description: The app's C(current) link; the release it names is recorded as the one before the run.
    type: path
  socket:
    description: The app's stable socket path, a link to the serving slot's socket; the slot is returned as RV(live).
    type: path
  action:
    description: What the run does, for the history (deploy, rollback, remove ...).
    type: str
    default: deploy
  result:
    description: With O(state=unlocked), the run's result (C(ok), C(failed)); empty writes no history line.
    type: str
    default: ""
  to:
    description: The release the run put in place or tried to; by default the one O(current) names now.
    type: str
    default: ""
  step:
    description: The step that failed, for the history.
    type: str
    default: ""
  history_keep:
    description: How many history lines to keep.
    type: int
    default: 100
extends_documentation_fragment:
  - asgi.deploy.attributes
"""

EXAMPLES = r"""
- name: Take the deploy lock
  asgi.deploy.deploy_lock:
    name: example
    path: /var/lib/asgi-deploy/example
    current: /opt/example/current
    run: "{{ lookup('asgi.deploy.run_info') }}"
  register: lock

- name: Give it back, with a history line
  asgi.deploy.deploy_lock:
    name: example
    path: /var/lib/asgi-deploy/example
    current: /opt/example/current
    run: "{{ lookup('asgi.deploy.run_info') }}"
    state: unlocked
    result: ok
"""

RETURN = r"""
acquired:
  description: Whether this run holds the lock now (state C(locked)).
  returned: always
  type: bool
holder:
  description: The lock of the other run that holds it, when RV(acquired) is false.
  returned: always
  type: dict
  sample: {id: "ops@laptop:4242:8c1f0e52-63a4-4d1e-9a4b-2f1d7f3c9e10:5123.45", user: ops, host: laptop, pid: 4242,
           playbook: site.yml, started: 1796068979, boot: 8c1f0e52-63a4-4d1e-9a4b-2f1d7f3c9e10, since_boot: 5123.45,
           taken: 1796068990, action: deploy, from: "20261130-a1b2c3"}
broken:
  description: The lock O(break_lock) broke, or null.
  returned: always
  type: dict
now:
  description: This host's clock, in seconds since the epoch, to compute the holder's age with.
  returned: always
  type: int
release:
  description: The release O(current) names as the lock is taken or given back (empty without O(current)).
  returned: always
  type: str
  sample: 20261130-a1b2c3
live:
  description: The socket O(socket) links to, without its folder (empty without O(socket) or a link).
  returned: always
  type: str
  sample: blue.sock
record:
  description: The history line written, or null.
  returned: always
  type: dict
  sample: {time: "2026-11-30T20:14:03Z", action: deploy, result: ok, by: "ops@laptop", playbook: site.yml,
           from: "20261130-a1b2c3", to: "20261130-d4e5f6", seconds: 41, step: ""}
"""

import json
import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.asgi.deploy.plugins.module_utils.serving import release_of

LOCK = "lock.json"
HISTORY = "history.jsonl"


def read_json(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def scratch(folder, content):
    """A complete file beside the target, to link or rename into place."""
    handle, path = tempfile.mkstemp(dir=folder, prefix=".lock-")
    with os.fdopen(handle, "w") as out:
        out.write(content)
    os.chmod(path, 0o644)
    return path


def take(folder, lock, replace):
    """Put the lock in place; False when another one is there (and not replaced)."""
    path = os.path.join(folder, LOCK)
    tmp = scratch(folder, json.dumps(lock, sort_keys=True) + "\n")
    try:
        if replace:
            os.replace(tmp, path)
            return True
        os.link(tmp, path)  # fails when the file exists: no window between test and write
        return True
    except FileExistsError:
        return False
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def append_history(folder, record, keep):
    path = os.path.join(folder, HISTORY)
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()
    except OSError:
        lines = []
    lines = (lines + [json.dumps(record, sort_keys=True)])[-keep:]
    os.replace(scratch(folder, "\n".join(lines) + "\n"), path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            path=dict(type="path", required=True),
            state=dict(type="str", choices=["locked", "unlocked"], default="locked"),
            run=dict(type="dict", required=True),
            break_lock=dict(type="bool", default=False),
            current=dict(type="path"),
            socket=dict(type="path"),
            action=dict(type="str", default="deploy"),
            result=dict(type="str", default=""),
            to=dict(type="str", default=""),
            step=dict(type="str", default=""),
            history_keep=dict(type="int", default=100),
        ),
        supports_check_mode=True,
    )
    params = module.params
    run, folder = params["run"], params["path"]
    if not run.get("id"):
        module.fail_json(msg="deploy_lock: run needs an id (lookup('asgi.deploy.run_info'))")
    if params["history_keep"] < 1:
        module.fail_json(msg="deploy_lock: history_keep must be 1 or more, got %d" % params["history_keep"])
    now = int(time.time())
    held = read_json(os.path.join(folder, LOCK))
    ours = held is not None and held.get("id") == run["id"]
    out = dict(changed=False, acquired=False, holder=None, broken=None, now=now, record=None,
               release=release_of(params["current"]), live=release_of(params["socket"]))

    if params["state"] == "locked":
        if ours:
            out["acquired"] = True
            module.exit_json(**out)
        if held is not None and not params["break_lock"]:
            out["holder"] = held
            module.exit_json(**out)
        out.update(changed=True, acquired=True, broken=held)
        if module.check_mode:
            module.exit_json(**out)
        os.makedirs(folder, mode=0o755, exist_ok=True)
        lock = dict(run, taken=now, action=params["action"], **{"from": release_of(params["current"])})
        if not take(folder, lock, replace=held is not None):
            # Another run took it between the read and the link.
            out.update(changed=False, acquired=False, broken=None, holder=read_json(os.path.join(folder, LOCK)))
        module.exit_json(**out)

    if ours:
        out["changed"] = True
    # Only the holder writes history: a run whose lock is gone (given back by
    # another of its hosts' failures, or broken) adds no second line.
    if params["result"] and ours:
        out["record"] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "action": params["action"], "result": params["result"],
            "by": "%s@%s" % (run.get("user", "?"), run.get("host", "?")), "pid": run.get("pid"),
            "playbook": run.get("playbook", ""), "from": held.get("from", ""),
            "to": params["to"] or release_of(params["current"]),
            "seconds": now - held["taken"] if "taken" in held else None, "step": params["step"],
        }
    if held is not None and not ours:
        out["holder"] = held
    if module.check_mode or not out["changed"]:
        module.exit_json(**out)
    if out["record"]:
        append_history(folder, out["record"], params["history_keep"])
    if ours:
        os.unlink(os.path.join(folder, LOCK))
    module.exit_json(**out)


if __name__ == "__main__":
    main()
