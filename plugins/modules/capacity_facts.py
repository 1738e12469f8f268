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
attributes:
  check_mode:
    description: Runs in check mode and returns the same facts.
    support: full
  diff_mode:
    description: Changes nothing, so there is nothing to diff.
    support: none
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

import os

from ansible.module_utils.basic import AnsibleModule

MIB = 1024 * 1024


def parse_meminfo(text):
    """Return {key: bytes} for the kB lines of /proc/meminfo."""
    values = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        fields = rest.split()
        if not sep or not fields or not fields[0].isdigit():
            continue
        multiplier = 1024 if len(fields) > 1 and fields[1] == "kB" else 1
        values[key.strip()] = int(fields[0]) * multiplier
    return values


def parse_proc_cgroup(text):
    """Return [(hierarchy_id, [controllers], path)] from /proc/<pid>/cgroup."""
    entries = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        controllers = [c for c in parts[1].split(",") if c]
        entries.append((parts[0], controllers, parts[2]))
    return entries


def parse_mountinfo(text):
    """Return [(fstype, mount_root, mount_point, super_options)] of cgroup mounts."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        left_fields = left.split()
        right_fields = right.split()
        if len(left_fields) < 5 or len(right_fields) < 3:
            continue
        fstype = right_fields[0]
        if fstype not in ("cgroup", "cgroup2"):
            continue
        mounts.append((fstype, left_fields[3], left_fields[4],
                       right_fields[2].split(",")))
    return mounts


def cgroup_dirs(proc_cgroup, mountinfo, controller):
    """Directories of this process's cgroup for one controller, leaf first.

    Yields (version, directory) from the process's own cgroup up to the root of
    the mounted hierarchy, so a limit set on any ancestor is seen too.
    """
    for fstype, mount_root, mount_point, options in mountinfo:
        if fstype == "cgroup2":
            wanted = [path for hid, ctrls, path in proc_cgroup if hid == "0" and not ctrls]
            version = 2
        elif controller in options:
            wanted = [path for hid, ctrls, path in proc_cgroup if controller in ctrls]
            version = 1
        else:
            continue
        for path in wanted:
            # A mount of a sub-tree (mount_root != "/") shows paths below it.
            if mount_root != "/" and (path == mount_root or path.startswith(mount_root + "/")):
                path = path[len(mount_root):] or "/"
            parts = [p for p in path.split("/") if p and p != ".."]
            for depth in range(len(parts), -1, -1):
                yield version, os.path.join(mount_point, *parts[:depth])


def _read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None


def memory_limit(proc_cgroup, mountinfo):
    """Smallest cgroup memory limit in bytes and the file it came from, or (None, None)."""
    best = (None, None)
    for version, directory in cgroup_dirs(proc_cgroup, mountinfo, "memory"):
        name = "memory.max" if version == 2 else "memory.limit_in_bytes"
        path = os.path.join(directory, name)
        value = _read(path)
        if value is None or not value.isdigit():
            # "max" (v2) means no limit; a missing file means another level.
            continue
        limit = int(value)
        if best[0] is None or limit < best[0]:
            best = (limit, path)
    return best


def cpu_quota(proc_cgroup, mountinfo):
    """Smallest CFS quota in CPUs and the file it came from, or (None, None)."""
    best = (None, None)
    for version, directory in cgroup_dirs(proc_cgroup, mountinfo, "cpu"):
        if version == 2:
            path = os.path.join(directory, "cpu.max")
            value = _read(path)
            if value is None:
                continue
            fields = value.split()
            if len(fields) != 2 or not fields[0].isdigit() or not fields[1].isdigit():
                continue
            quota, period = int(fields[0]), int(fields[1])
        else:
            path = os.path.join(directory, "cpu.cfs_quota_us")
            quota_text = _read(path)
            period_text = _read(os.path.join(directory, "cpu.cfs_period_us"))
            if not quota_text or not period_text or not quota_text.isdigit() \
                    or not period_text.isdigit():
                # -1 means no quota.
                continue
            quota, period = int(quota_text), int(period_text)
        if quota <= 0 or period <= 0:
            continue
        cpus = float(quota) / period
        if best[0] is None or cpus < best[0]:
            best = (cpus, path)
    return best


def cgroup_version(mountinfo):
    kinds = set(fstype for fstype, _root, _point, _opts in mountinfo)
    if kinds == set(["cgroup2"]):
        return "2"
    if kinds == set(["cgroup"]):
        return "1"
    if kinds:
        return "hybrid"
    return "none"


def capacity(meminfo_text, proc_cgroup_text, mountinfo_text, affinity_cpus):
    """Compute the asgi_capacity fact from the text of the kernel's files."""
    meminfo = parse_meminfo(meminfo_text)
    if "MemTotal" not in meminfo:
        raise ValueError("/proc/meminfo has no MemTotal line")
    total = meminfo["MemTotal"]
    available = meminfo.get("MemAvailable", meminfo.get("MemFree", total))
    proc_cgroup = parse_proc_cgroup(proc_cgroup_text)
    mountinfo = parse_mountinfo(mountinfo_text)

    limit, limit_source = memory_limit(proc_cgroup, mountinfo)
    usable, memory_source = total, "/proc/meminfo"
    if limit is not None and limit < total:
        usable, memory_source = limit, limit_source

    quota, quota_source = cpu_quota(proc_cgroup, mountinfo)
    cpus, cpus_source = float(affinity_cpus), "sched_getaffinity"
    if quota is not None and quota < cpus:
        cpus, cpus_source = quota, quota_source

    return {
        "memory_mb": usable // MIB,
        "memory_source": memory_source,
        "mem_total_mb": total // MIB,
        "available_mb": min(available, usable) // MIB,
        "cgroup_memory_limit_mb": None if limit is None else limit // MIB,
        "cpus": round(cpus, 2),
        "cpus_source": cpus_source,
        "cgroup_version": cgroup_version(mountinfo),
    }


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    texts = {}
    for name in ("/proc/meminfo", "/proc/self/cgroup", "/proc/self/mountinfo"):
        texts[name] = _read(name)
        if texts[name] is None:
            module.fail_json(msg="capacity_facts: cannot read %s" % name)
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count() or 1
    try:
        facts = capacity(texts["/proc/meminfo"], texts["/proc/self/cgroup"],
                         texts["/proc/self/mountinfo"], affinity)
    except ValueError as error:
        module.fail_json(msg="capacity_facts: %s" % error)
    module.exit_json(changed=False, ansible_facts={"asgi_capacity": facts})


if __name__ == "__main__":
    main()
