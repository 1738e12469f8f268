# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: utilization_advice
short_description: Compare what a host's apps use with their budgets and the 50-90 % target band
version_added: 0.1.0
description:
  - Takes the C(asgi_utilization) fact of M(asgi.deploy.utilization_facts),
    which measures every app on the host with the worker budget its deploy
    recorded, and returns the figures of the report - one row per app with
    its own recommendation, and the host's memory use against the band with
    the host's recommendation.
  - Memory used is the resident memory of every app's uvicorn main process
    and workers and of the web server, against the memory the host can use.
positional: _input
options:
  _input:
    description: The C(asgi_utilization) fact.
    type: dict
    required: true
  band:
    description: The target band of memory use, as fractions.
    type: list
    elements: float
    default: [0.5, 0.9]
"""

EXAMPLES = r"""
- name: Advise
  ansible.builtin.debug:
    msg: "{{ (asgi_utilization | asgi.deploy.utilization_advice).lines }}"
"""

RETURN = r"""
_value:
  description: The report's figures and recommendations.
  type: dict
  contains:
    apps:
      description:
        - Per app, by name - C(workers), C(worker_rss_mb) (the median), C(per_worker_mb), C(workers_per_cpu),
          C(sized) (C(auto) or the app_workers it was deployed with), C(used_mb), C(recommendation).
      type: list
      elements: dict
    used_mb: {description: RSS of every app's processes and the web server, in MiB., type: float}
    memory_mb: {description: Memory the host can use, in MiB., type: float}
    used_percent: {description: C(used_mb) against the usable memory, in percent., type: float}
    cpu_busy_percent: {description: Share of CPU time the host was busy., type: float}
    status: {description: "C(below), C(within) or C(above) the band.", type: str}
    recommendation: {description: What to change on the host, or keep., type: str}
    lines: {description: The report as printed - a header, a row per app, the host and its recommendation., type: list, elements: str}
"""

import math

from ansible.errors import AnsibleFilterError

ROW = "%-16s %-8s %-12s %-8s %-10s %s"


def _app(name, usage):
    workers = [float(w["rss_mb"]) for w in usage["workers"]]
    main = float(usage["main"]["rss_mb"] or 0)
    if not workers:
        # uvicorn --workers 1 runs the app in its main process: no supervisor.
        workers, main = [main], 0.0
    if not workers[0]:
        raise AnsibleFilterError("utilization_advice: no process was measured for app %s" % name)
    budget = float(usage.get("per_worker_mb") or 128)
    ordered = sorted(workers)
    row = {"name": name, "workers": len(workers), "worker_rss_mb": round(ordered[len(ordered) // 2], 1),
           "per_worker_mb": budget, "workers_per_cpu": float(usage.get("workers_per_cpu") or 2),
           "sized": str(usage.get("sized", "auto")),
           "used_mb": round(main + sum(workers), 1)}
    if max(workers) > budget:
        row["recommendation"] = (
            "raise app_per_worker_mb to %d: a worker uses %.0f MiB, above its %.0f MiB budget, "
            "so MemoryMax can kill workers under load" % (int(math.ceil(max(workers) * 1.25 / 16) * 16), max(workers), budget))
    else:
        row["recommendation"] = "keep"
    return row


def utilization_advice(usage, band=(0.5, 0.9)):
    try:
        memory = float(usage["capacity"]["memory_mb"])
        cpus = float(usage["capacity"]["cpus"])
        apps = [_app(name, app) for name, app in sorted(usage["apps"].items())]
        web = float(usage.get("web_server_rss_mb") or 0)
        busy = float(usage.get("cpu_busy_percent") or 0)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise AnsibleFilterError("utilization_advice: the input is not an asgi_utilization fact (%s)" % error)
    if not apps:
        raise AnsibleFilterError("utilization_advice: no app was measured")
    low, high = band
    used = sum(app["used_mb"] for app in apps) + web
    share = used / memory
    # Apps that could take more workers: below the cap their CPUs allow.
    room = [app for app in apps if app["workers"] < math.floor(cpus * app["workers_per_cpu"])]

    if share > high:
        advice = "add a host (or lower app_utilization): memory use is above %d %%" % (high * 100)
    elif busy > high * 100:
        advice = "add a host: the CPUs are %.0f %% busy" % busy
    elif share < low and room:
        app = room[0]
        if app["sized"] == "auto":
            advice = ("add workers to %s: lower its app_per_worker_mb toward %d (workers measure %.0f MiB) "
                      "or raise app_utilization" % (app["name"], int(math.ceil(app["worker_rss_mb"] * 1.5 / 16) * 16),
                                                    app["worker_rss_mb"]))
        else:
            advice = "add workers to %s: raise its app_workers (%s) or set it to auto" % (app["name"], app["sized"])
    elif share < low:
        advice = "keep: the CPUs cap the workers, so memory stays below the band; a host with less memory would do"
    else:
        advice = "keep"
    status = "below" if share < low else ("above" if share > high else "within")
    lines = [ROW % ("app", "workers", "worker RSS", "budget", "used", "recommendation")]
    lines += [ROW % (app["name"], app["workers"], "%.1f MiB" % app["worker_rss_mb"], "%d MiB" % app["per_worker_mb"],
                     "%.0f MiB" % app["used_mb"], app["recommendation"]) for app in apps]
    lines.append("host: %.0f / %.0f MiB used (%.0f %%), %s the band; CPU %.0f %% busy"
                 % (used, memory, 100 * share, status, busy))
    lines.append("recommendation: " + advice)
    return {
        "apps": apps,
        "used_mb": round(used, 1),
        "memory_mb": memory,
        "used_percent": round(100 * share, 1),
        "cpu_busy_percent": busy,
        "status": status,
        "recommendation": advice,
        "lines": lines,
    }


class FilterModule(object):
    """asgi.deploy utilisation report."""

    def filters(self):
        return {"utilization_advice": utilization_advice}
