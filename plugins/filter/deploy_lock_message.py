# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: deploy_lock_message
short_description: Who holds an app's deploy lock, and what to do about it
version_added: 0.5.0
description:
  - Turns the results of M(asgi.deploy.deploy_lock) on the app hosts into one
    message naming the run that holds the lock (controller user and host, pid,
    playbook, start time, the lock's age) and whether it still runs - known
    when it runs from this controller - or was left by a killed run, with the
    variable that breaks it. Empty when this run holds the lock everywhere.
positional: _input
options:
  _input:
    description: The module's result on each app host, by host name.
    type: dict
    required: true
  name:
    description: The app's name.
    type: str
    required: true
author:
  - asgi.deploy contributors (@asgi-deploy)
"""

EXAMPLES = r"""
- name: Stop when another run holds the lock
  ansible.builtin.fail:
    msg: "{{ results | asgi.deploy.deploy_lock_message(name=app_name) }}"
  when: results | asgi.deploy.deploy_lock_message(name=app_name) | length > 0
"""

RETURN = r"""
_value:
  description: The message, or an empty string.
  type: str
"""

import time

from ansible.errors import AnsibleFilterError
from ansible_collections.asgi.deploy.plugins.plugin_utils.runs import still_runs


def age(seconds):
    """3 min 12 s, 2 h 5 min, 3 d 4 h."""
    seconds = max(0, int(seconds))
    for unit, size, smaller, small_size in (("d", 86400, "h", 3600), ("h", 3600, "min", 60), ("min", 60, "s", 1)):
        if seconds >= size:
            return "%d %s %d %s" % (seconds // size, unit, seconds % size // small_size, smaller)
    return "%d s" % seconds


def when(epoch):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch)) if isinstance(epoch, int) else "at an unknown time"


def describe(holder, hosts, now, name, alive):
    taken = holder.get("taken")
    text = ("App '%s' is locked by another run on %s: %s@%s, pid %s, playbook %s, started %s; it took the lock %s ago"
            " for a %s from release %s." % (
                name, ", ".join(hosts), holder.get("user", "?"), holder.get("host", "?"), holder.get("pid", "?"),
                holder.get("playbook", "?"), when(holder.get("started")),
                age(now - taken) if isinstance(taken, int) else "an unknown time",
                holder.get("action", "deploy"), holder.get("from") or "(none)"))
    if alive is True:
        return text + " That run is still running on this controller: let it finish, then run again."
    if alive is False:
        return text + (" That run is no longer running (no pid %s started then on this controller): it was killed or"
                       " lost, and its lock is stale. Check that nothing else is deploying '%s', then break the lock"
                       " with -e app_break_lock=true." % (holder.get("pid", "?"), name))
    return text + (" That run is on another controller, so this one cannot tell whether it still runs. If it was killed"
                   " (a stale lock), break the lock with -e app_break_lock=true once nothing else is deploying '%s'."
                   % name)


def deploy_lock_message(results, name):
    if not isinstance(results, dict):
        raise AnsibleFilterError("deploy_lock_message: expected the deploy_lock results by host, got %r" % (results,))
    holders = {}
    for host in sorted(results):
        result = results[host] or {}
        if result.get("acquired"):
            continue
        holder = result.get("holder")
        if not isinstance(holder, dict):
            raise AnsibleFilterError("deploy_lock_message: %s did not take the lock and names no holder: %r"
                                     % (host, result.get("msg", result)))
        entry = holders.setdefault(holder.get("id"), (holder, [], result.get("now", int(time.time()))))
        entry[1].append(host)
    messages = [describe(holder, hosts, now, name, still_runs(holder)) for holder, hosts, now in holders.values()]
    return " ".join(messages + ["Nothing was changed."]) if messages else ""


class FilterModule(object):
    def filters(self):
        return {"deploy_lock_message": deploy_lock_message}
