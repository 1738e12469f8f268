# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: app_plan
short_description: Everything one deploy of an app does on one host, decided once
version_added: 0.6.0
description:
  - Takes what M(asgi.deploy.app_host) read on a host and the app's settings,
    and returns the plan every phase of the app role and every template
    reads - the app's folders and units (the keys of
    P(asgi.deploy.app_layout#filter)), the slot that serves and the slot a
    new release starts in, the release's folders, how the edge reaches the
    app, the worker count and C(MemoryMax=), and how the switch shares the
    host's memory.
  - "The worker count comes from P(asgi.deploy.uvicorn_workers#filter) (with
    O(settings.workers=auto)), sized with C(switch=true). The switch is one of:
    C(first) (nothing serves yet), C(overlap) (both releases at full size fit
    in the budget), C(shrink) (the serving release gives back workers down to
    C(serving_workers) while the new one starts with C(start_workers), then
    grows), or C(stop_first) (not even one worker each fits: the serving
    release stops first and the host holds new requests)."
  - The budget of the switch is the filter's own - the host's memory times
    the utilisation, less the reserve and what the other apps reserve -
    counted in C(per_worker_mb) per worker, so two releases together never
    hold more workers than it allows. The serving slot's measured memory is
    not used; the plan is the same on every run of the same settings on the
    same host.
  - Fails naming the variable when the workers do not fit.
positional: _input
options:
  _input:
    description: The result of M(asgi.deploy.app_host) on the host.
    type: dict
    required: true
  settings:
    description:
      - The app's settings, by the role's variable names without C(app_) -
        C(name), C(workers), C(per_worker_mb), C(reserve_mb), C(utilization),
        C(workers_per_cpu), C(max_workers), C(supervisor_mb),
        C(allow_overcommit), C(tcp_port), C(tcp_address), C(workdir),
        C(migrate_workdir), and C(address) (how other hosts reach this one).
    type: dict
    required: true
  release:
    description: The id of the release this run brings the host to; empty when not known yet.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Plan the deploy on this host
  ansible.builtin.set_fact:
    app__plan: >-
      {{ app__host | asgi.deploy.app_plan(settings={'name': 'shop', 'workers': 'auto', 'per_worker_mb': 128,
           'reserve_mb': 256, 'utilization': 0.75, 'workers_per_cpu': 2, 'max_workers': 0, 'supervisor_mb': 64,
           'allow_overcommit': false, 'tcp_port': 0, 'tcp_address': '0.0.0.0', 'workdir': '',
           'migrate_workdir': '', 'address': inventory_hostname}, release='3f2a9c0d1e2b') }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    name:
      description: The app's name.
      type: str
    root:
      description: C(/opt/<app>), and likewise C(releases), C(current), C(previous), C(etc), C(state), C(run_dir), C(tmpfiles), C(run_command), C(deploy_dir).
      type: str
    socket:
      description: The stable socket path the edge dials, a symlink to the serving slot's socket.
      type: str
    slots:
      description: Per slot, its C(unit), C(socket_unit), C(service_unit), C(socket), C(env_file) and C(workers_file).
      type: dict
    live:
      description: The slot that serves now, or an empty string.
      type: str
    next:
      description: The slot a new release starts in.
      type: str
    release:
      description: The release's C(id), C(dir), working directory C(workdir) and C(migrate_workdir).
      type: dict
    workers:
      description: The worker count of the release once it serves.
      type: int
    memory_max_mb:
      description: C(MemoryMax=) of the slot, workers times C(per_worker_mb) plus C(supervisor_mb).
      type: int
    budget_workers:
      description: How many workers the host's budget holds in all, for both slots during a switch.
      type: int
    switch:
      description:
        - C(mode) (first, overlap, shrink, stop_first), C(serving_workers) (the
          serving release's workers while both run; V(0) when it keeps all),
          C(start_workers) (the new release's first count) and C(why).
      type: dict
    upstream:
      description: C(local) (how an edge on this host reaches the app) and C(remote) (from another host; empty without a TCP port).
      type: dict
    tcp:
      description: C(port), C(listen) (address:port the TCP front binds) and C(local) (the address this host reaches it on).
      type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.asgi.deploy.plugins.filter.app_layout import app_layout
from ansible_collections.asgi.deploy.plugins.filter.uvicorn_workers import budget_workers, uvicorn_workers
from ansible_collections.asgi.deploy.plugins.module_utils.layout import other_slot

REQUIRED = ("name", "workers", "per_worker_mb", "reserve_mb", "utilization", "workers_per_cpu", "max_workers",
            "supervisor_mb", "allow_overcommit", "tcp_port", "tcp_address", "workdir", "migrate_workdir", "address")


def worker_count(settings, memory_mb, cpus, others):
    """The release's workers: the filter's for auto, else the number asked
    for, checked to fit beside the other apps unless overcommit is allowed."""
    if str(settings["workers"]) == "auto":
        return uvicorn_workers(memory_mb, per_worker_mb=settings["per_worker_mb"], reserve_mb=settings["reserve_mb"],
                               utilization=settings["utilization"], cpus=cpus,
                               workers_per_cpu=settings["workers_per_cpu"],
                               max_workers=settings["max_workers"] or None, other_apps_mb=others, switch=True)
    workers = int(settings["workers"])
    need = workers * settings["per_worker_mb"] + settings["supervisor_mb"] + settings["reserve_mb"]
    taken = sum(others.values())
    if not settings["allow_overcommit"] and need + taken > memory_mb:
        raise AnsibleFilterError(
            "app_workers=%d do not fit: the host has %d MiB%s; app_reserve_mb=%d plus app_supervisor_mb=%d plus %d x "
            "app_per_worker_mb=%d needs %d MiB. Lower app_workers or app_per_worker_mb, give the host more memory, or "
            "set app_workers: auto. app_allow_overcommit: true skips this check (dangerous: the host can run out of "
            "memory)." % (workers, memory_mb,
                          "; the other apps on it reserve %d MiB (%s)" % (taken, ", ".join(
                              "%s %d MiB" % item for item in sorted(others.items()))) if taken else "",
                          settings["reserve_mb"], settings["supervisor_mb"], workers, settings["per_worker_mb"], need))
    return workers


def switch_plan(live, running, workers, budget):
    """How the serving release (live, running `running` workers: 0 when it
    does not run, and a single uvicorn process counts as 1) and a new one of
    `workers` share `budget` worker budgets while both run."""
    if not live or not running:
        return {"mode": "first", "serving_workers": 0, "start_workers": workers,
                "why": "nothing serves yet" if not live else "the serving slot %s does not run" % live}
    if running + workers <= budget:
        return {"mode": "overlap", "serving_workers": 0, "start_workers": workers,
                "why": "both releases fit in the budget of %d workers" % budget}
    # The serving release keeps about half the budget, at most what it runs
    # (it can only give workers back, and only from uvicorn's supervisor); the
    # new one starts with the rest, and must start with two to grow later.
    for serving in range(min(running, max(1, budget // 2)), 0, -1):
        start = min(workers, budget - serving)
        if start >= 1 and (start == workers or start >= 2) and (serving == running or running >= 2):
            return {"mode": "shrink" if serving < running or start < workers else "overlap",
                    "serving_workers": serving if serving < running else 0, "start_workers": start,
                    "why": "the budget holds %d workers: the serving release keeps %d while the new one starts with %d%s"
                           % (budget, serving, start, " and grows to %d" % workers if start < workers else "")}
    return {"mode": "stop_first", "serving_workers": 0, "start_workers": workers,
            "why": "the budget holds %d worker(s): not one each beside a new release of %d" % (budget, workers)}


def app_plan(host, settings, release=""):
    if not isinstance(host, dict) or not isinstance(host.get("capacity"), dict) or "slots" not in host:
        raise AnsibleFilterError("app_plan: expects the result of asgi.deploy.app_host, got %r" % (host,))
    if not isinstance(settings, dict) or any(key not in settings for key in REQUIRED):
        raise AnsibleFilterError("app_plan: settings must hold %s; missing %s" % (
            ", ".join(REQUIRED), [key for key in REQUIRED if key not in (settings or {})]))
    name = settings["name"]
    layout = app_layout(name)
    slots = host["slots"]
    live = slots.get("live", "")
    others = dict((app, mb) for app, mb in host.get("others_reserved_mb", {}).items() if app != name and mb)
    memory_mb, cpus = host["capacity"]["memory_mb"], host["capacity"]["cpus"]
    workers = worker_count(settings, memory_mb, cpus, others)
    budget = max(workers, budget_workers(memory_mb, settings["per_worker_mb"], settings["reserve_mb"],
                                         settings["utilization"], others))
    release_dir = "%s/%s" % (layout["releases"], release) if release else ""

    def inside(folder):
        return ("%s/app/%s" % (release_dir, folder)).rstrip("/") if release_dir else ""

    port, address = int(settings["tcp_port"]), settings["tcp_address"]
    local = "%s:%d" % ("127.0.0.1" if address in ("0.0.0.0", "::") else address, port)
    remote = "" if port == 0 else "%s:%d" % (settings["address"] if address in ("0.0.0.0", "::") else address, port)
    plan = dict(layout)
    plan.update({
        "live": live,
        "next": other_slot(live),
        "current_release": slots.get("current", ""),
        "release": {"id": release, "dir": release_dir, "workdir": inside(settings["workdir"]),
                    "migrate_workdir": inside(settings["migrate_workdir"])},
        "workers": workers,
        "memory_max_mb": workers * settings["per_worker_mb"] + settings["supervisor_mb"],
        "budget_workers": budget,
        "switch": switch_plan(live, max(1, slots.get("live_workers", 0)) if slots.get("live_running", bool(live)) else 0,
                              workers, budget),
        "upstream": {"local": "unix/" + layout["socket"] if port == 0 else local, "remote": remote},
        "tcp": {"port": port, "listen": "%s:%d" % (address, port), "local": local},
    })
    return plan


class FilterModule(object):
    """asgi.deploy per-host plan."""

    def filters(self):
        return {"app_plan": app_plan}
