# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: utilization_advice
short_description: Compare what an app uses with its budget and the 50-90 % target band
version_added: 0.1.0
description:
  - Takes the C(asgi_utilization) fact of M(asgi.deploy.utilization_facts)
    and the budget the app was sized with, and returns the figures of the
    report with a plain recommendation.
  - Memory used is the resident memory of uvicorn's main process, its
    workers and the web server, against the memory the host can use.
positional: _input
options:
  _input:
    description: The C(asgi_utilization) fact.
    type: dict
    required: true
  per_worker_mb:
    description: The per-worker budget the workers were sized with (C(app_per_worker_mb)).
    type: float
    default: 128
  workers_per_cpu:
    description: Most workers per CPU the sizing allowed (C(app_workers_per_cpu)).
    type: float
    default: 2
  band:
    description: The target band of memory use, as fractions.
    type: list
    elements: float
    default: [0.5, 0.9]
"""

EXAMPLES = r"""
- name: Advise
  ansible.builtin.debug:
    msg: "{{ (asgi_utilization | asgi.deploy.utilization_advice(per_worker_mb=app_per_worker_mb)).recommendation }}"
"""

RETURN = r"""
_value:
  description: The report's figures and a recommendation.
  type: dict
  contains:
    workers: {description: Workers running., type: int}
    worker_rss_mb: {description: Median worker RSS in MiB., type: float}
    used_mb: {description: RSS of main process, workers and web server, in MiB., type: float}
    used_percent: {description: C(used_mb) against the usable memory, in percent., type: float}
    status: {description: "C(below), C(within) or C(above) the band.", type: str}
    recommendation: {description: What to change, or keep., type: str}
"""

import math

from ansible.errors import AnsibleFilterError


def utilization_advice(usage, per_worker_mb=128, workers_per_cpu=2, band=(0.5, 0.9)):
    try:
        memory = float(usage["capacity"]["memory_mb"])
        cpus = float(usage["capacity"]["cpus"])
        workers = [float(w["rss_mb"]) for w in usage["workers"]]
        main = float(usage["main"]["rss_mb"] or 0)
        web = float(usage.get("web_server_rss_mb") or 0)
        busy = float(usage.get("cpu_busy_percent") or 0)
    except (KeyError, TypeError, ValueError) as error:
        raise AnsibleFilterError("utilization_advice: the input is not an asgi_utilization fact (%s)" % error)
    if not workers:
        raise AnsibleFilterError("utilization_advice: no workers were found")
    low, high = band
    ordered = sorted(workers)
    median = ordered[len(ordered) // 2]
    used = main + sum(workers) + web
    share = used / memory
    cpu_cap = math.floor(cpus * workers_per_cpu)

    if max(workers) > per_worker_mb:
        advice = ("raise app_per_worker_mb to %d: a worker uses %.0f MiB, above its %.0f MiB budget, "
                  "so MemoryMax can kill workers under load"
                  % (int(math.ceil(max(workers) * 1.25 / 16) * 16), max(workers), per_worker_mb))
    elif share > high:
        advice = "add a host (or lower app_utilization): memory use is above %d %%" % (high * 100)
    elif busy > high * 100:
        advice = "add a host: the CPUs are %.0f %% busy" % busy
    elif share < low and len(workers) < cpu_cap:
        advice = ("add workers: lower app_per_worker_mb toward %d (workers measure %.0f MiB) "
                  "or raise app_utilization" % (int(math.ceil(median * 1.5 / 16) * 16), median))
    elif share < low:
        advice = ("keep: the CPUs cap the workers at %d, so memory stays below the band; "
                  "a host with less memory would do" % cpu_cap)
    else:
        advice = "keep"
    return {
        "workers": len(workers),
        "worker_rss_mb": round(median, 1),
        "per_worker_mb": per_worker_mb,
        "used_mb": round(used, 1),
        "memory_mb": memory,
        "used_percent": round(100 * share, 1),
        "cpu_busy_percent": busy,
        "status": "below" if share < low else ("above" if share > high else "within"),
        "recommendation": advice,
    }


class FilterModule(object):
    """asgi.deploy utilisation report."""

    def filters(self):
        return {"utilization_advice": utilization_advice}
