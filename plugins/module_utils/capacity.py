# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a Linux host can use: /proc/meminfo, cgroup v1/v2 limits, CFS quotas.

Shared by the capacity_facts and utilization_facts modules.
"""

from __future__ import annotations

import os

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


def read_text(path):
    """The stripped text of a file, or None when it cannot be read."""
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
        value = read_text(path)
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
            value = read_text(path)
            if value is None:
                continue
            fields = value.split()
            if len(fields) != 2 or not fields[0].isdigit() or not fields[1].isdigit():
                continue
            quota, period = int(fields[0]), int(fields[1])
        else:
            path = os.path.join(directory, "cpu.cfs_quota_us")
            quota_text = read_text(path)
            period_text = read_text(os.path.join(directory, "cpu.cfs_period_us"))
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


def host_capacity():
    """The capacity of the host this runs on; ValueError when /proc is unreadable."""
    texts = {}
    for name in ("/proc/meminfo", "/proc/self/cgroup", "/proc/self/mountinfo"):
        texts[name] = read_text(name)
        if texts[name] is None:
            raise ValueError("cannot read %s" % name)
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count() or 1
    return capacity(texts["/proc/meminfo"], texts["/proc/self/cgroup"],
                    texts["/proc/self/mountinfo"], affinity)
