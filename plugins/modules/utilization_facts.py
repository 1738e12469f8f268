#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: utilization_facts
short_description: Measure what the apps' uvicorn processes and Caddy use on a host
version_added: 0.1.0
description:
  - Reads, for every app this collection deployed on the host (or those in
    O(apps)), the resident memory of its uvicorn main process and of each
    worker (its children) with the worker budget its deploy recorded; and
    the web server's processes, the host's usable
    memory and CPUs (as M(asgi.deploy.capacity_facts) does), the load
    average, and the share of CPU time the host spent busy over a short sample.
  - Returns it as the fact C(asgi_utilization), for P(asgi.deploy.utilization_advice#filter).
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  apps:
    description:
      - The apps to measure; empty means every app with a claim file under
        O(claims_dir). Each app's serving unit is the slot the stable socket
        path C(/run/<app>/<app>.sock) links to (C(<app>@blue.service) or
        C(<app>@green.service)), or C(<app>.service) on a host of the
        single-slot layout.
    type: list
    elements: str
    default: []
  claims_dir:
    description: Folder of the apps' claim files, which hold their worker budgets.
    type: path
    default: /etc/asgi-deploy/apps
  web_server:
    description: Process name of the web server whose memory is counted too.
    type: str
    default: caddy
  sample_seconds:
    description: How long to sample CPU time.
    type: float
    default: 1.0
extends_documentation_fragment:
  - asgi.deploy.attributes.read_only
attributes:
  facts:
    description: Sets the fact C(asgi_utilization).
    support: full
"""

EXAMPLES = r"""
- name: Measure every app on the host
  asgi.deploy.utilization_facts:
"""

RETURN = r"""
ansible_facts:
  description: Facts added to the host.
  returned: always
  type: dict
  contains:
    asgi_utilization:
      description: What the apps and the web server use, and what the host has.
      returned: always
      type: dict
      sample:
        capacity: {memory_mb: 1024, cpus: 2.0}
        apps:
          shop:
            unit: shop@blue.service
            main: {pid: 3096, rss_mb: 24.2}
            workers: [{pid: 3099, rss_mb: 58.0}, {pid: 3100, rss_mb: 56.7}]
            sized: auto
            per_worker_mb: 128
            workers_per_cpu: 2
        web_server_rss_mb: 41.3
        load: [0.31, 0.22, 0.1]
        cpu_busy_percent: 12.5
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.asgi.deploy.plugins.module_utils.capacity import host_capacity, read_text
from ansible_collections.asgi.deploy.plugins.module_utils.claims import CLAIMS_DIR, read_claims
from ansible_collections.asgi.deploy.plugins.module_utils.layout import serving_unit
from ansible_collections.asgi.deploy.plugins.module_utils.serving import processes, rss_mb, workers_of


def cpu_times():
    fields = [int(value) for value in read_text("/proc/stat").splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields), idle


def claims(claims_dir):
    """{app: its claim} for every claim file; a file that is not JSON counts as
    empty, so the app is still measured, with the default budget."""
    return {app: claim or {} for app, claim in read_claims(claims_dir).items()}


def app_usage(unit, main_pid, claim, table):
    return {"unit": unit, "main": {"pid": main_pid, "rss_mb": rss_mb(main_pid)},
            "workers": workers_of(main_pid, table),
            "sized": str(claim.get("workers", "auto")),
            "per_worker_mb": claim.get("per_worker_mb", 128), "workers_per_cpu": claim.get("workers_per_cpu", 2)}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            apps=dict(type="list", elements="str", default=[]),
            claims_dir=dict(type="path", default=CLAIMS_DIR),
            web_server=dict(type="str", default="caddy"),
            sample_seconds=dict(type="float", default=1.0),
        ),
        supports_check_mode=True,
    )
    params = module.params
    systemctl = module.get_bin_path("systemctl", required=True)
    claimed = claims(params["claims_dir"])
    names = params["apps"] or sorted(claimed)
    if not names:
        module.fail_json(msg="utilization_facts: no app of asgi.deploy is deployed on this host (no claim in %s)"
                         % params["claims_dir"])
    units = {name: serving_unit(name) for name in names}
    rc, out, err = module.run_command([systemctl, "show", "--property=MainPID", "--value"] + list(units.values()))
    # One value a unit, the units' blocks separated by blank lines.
    pids = [int(value) for value in out.split()] if rc == 0 else []
    stopped = [units[name] for name, pid in zip(names, pids) if pid == 0] if len(pids) == len(names) else list(units.values())
    if stopped:
        module.fail_json(msg="utilization_facts: not running: %s %s" % (", ".join(stopped), err.strip()))

    before = cpu_times()
    time.sleep(max(0.1, params["sample_seconds"]))
    after = cpu_times()
    total, idle = after[0] - before[0], after[1] - before[1]

    table = processes()
    web = [rss_mb(pid) for pid, _ppid, name in table if name == params["web_server"]]
    load = [float(value) for value in read_text("/proc/loadavg").split()[:3]]
    try:
        capacity = host_capacity()
    except ValueError as error:
        module.fail_json(msg="utilization_facts: %s" % error)
    module.exit_json(changed=False, ansible_facts={"asgi_utilization": {
        "capacity": capacity,
        "apps": {name: app_usage(units[name], pid, claimed.get(name, {}), table) for name, pid in zip(names, pids)},
        "web_server_rss_mb": round(sum(r for r in web if r), 1) if web else None,
        "load": load,
        "cpu_busy_percent": round(100.0 * (total - idle) / total, 1) if total else 0.0,
    }})


if __name__ == "__main__":
    main()
