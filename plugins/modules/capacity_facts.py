#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: capacity_facts
short_description: Memory and CPUs a host can really use, cgroup limits included
version_added: 0.1.0
description:
  - Reads C(MemTotal) and C(MemAvailable) from C(/proc/meminfo) and lowers the
    total by the memory limit of this process's cgroup and of every ancestor
    cgroup (cgroup v2 C(memory.max), v1 C(memory.limit_in_bytes)); the smallest
    wins.
  - Counts the CPUs in this process's affinity mask and lowers that by the CFS
    quota of the cgroup and its ancestors (v2 C(cpu.max), v1
    C(cpu.cfs_quota_us) / C(cpu.cfs_period_us)).
  - Returns each figure with where it came from, as the fact C(asgi_capacity).
  - Size workers from C(memory_mb), not C(available_mb); the available figure
    shrinks while the current release runs, so re-runs would change the count.
author:
  - asgi.deploy contributors (@asgi-deploy)
options: {}
extends_documentation_fragment:
  - asgi.deploy.attributes.read_only
attributes:
  facts:
    description: Sets the fact C(asgi_capacity).
    support: full
"""

EXAMPLES = r"""
- name: Read what the host can use
  asgi.deploy.capacity_facts:

- name: Size the workers from it
  ansible.builtin.debug:
    msg: "{{ asgi_capacity.memory_mb | asgi.deploy.uvicorn_workers(cpus=asgi_capacity.cpus) }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts added to the host.
  returned: always
  type: dict
  contains:
    asgi_capacity:
      description: What the host can use.
      returned: always
      type: dict
      contains:
        memory_mb:
          description: Usable memory in MiB, the smaller of MemTotal and any cgroup limit.
          type: int
          sample: 1024
        memory_source:
          description: Where RV(ansible_facts.asgi_capacity.memory_mb) came from, C(/proc/meminfo) or the cgroup file that limited it.
          type: str
          sample: /sys/fs/cgroup/memory/docker/3f2a/memory.limit_in_bytes
        mem_total_mb:
          description: MemTotal from /proc/meminfo, in MiB.
          type: int
          sample: 24105
        available_mb:
          description: MemAvailable from /proc/meminfo, in MiB (at most RV(ansible_facts.asgi_capacity.memory_mb)).
          type: int
          sample: 900
        cgroup_memory_limit_mb:
          description: The smallest cgroup memory limit found, in MiB, or null when there is none.
          type: int
          sample: 1024
        cpus:
          description: Usable CPUs, the affinity count lowered by any CFS quota (may be fractional).
          type: float
          sample: 2.0
        cpus_source:
          description: Where RV(ansible_facts.asgi_capacity.cpus) came from, C(sched_getaffinity) or the cgroup file that limited it.
          type: str
          sample: sched_getaffinity
        cgroup_version:
          description: C(1), C(2), C(hybrid) or C(none), from the mounts seen.
          type: str
          sample: "2"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.asgi.deploy.plugins.module_utils.capacity import host_capacity


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    try:
        facts = host_capacity()
    except ValueError as error:
        module.fail_json(msg="capacity_facts: %s" % error)
    module.exit_json(changed=False, ansible_facts={"asgi_capacity": facts})


if __name__ == "__main__":
    main()
