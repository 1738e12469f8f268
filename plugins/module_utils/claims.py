# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The claim files the app role writes, one JSON file per app deployed on a
host, and what else the host's names, ports and memory belong to. Shared by
the host_claims, app_host and utilization_facts modules.
"""

from __future__ import annotations

import glob
import grp
import json
import os
import pwd
import re

from ansible_collections.asgi.deploy.plugins.module_utils.layout import service_units

CLAIMS_DIR = "/etc/asgi-deploy/apps"


def read_claims(claims_dir=CLAIMS_DIR):
    """{app: its claim} for every claim file, None for one that is not JSON
    (each caller decides what a torn file means to it)."""
    claims = {}
    for path in sorted(glob.glob(os.path.join(claims_dir, "*.json"))):
        with open(path) as handle:
            try:
                claims[os.path.basename(path)[:-len(".json")]] = json.load(handle)
            except ValueError:
                claims[os.path.basename(path)[:-len(".json")]] = None
    return claims


LISTEN = "0A"


def listening_inodes(lines):
    """{inode: (port, uid)} of the LISTEN sockets in /proc/net/tcp or tcp6 lines."""
    found = {}
    for line in lines[1:]:
        fields = line.split()
        if len(fields) > 9 and fields[3] == LISTEN:
            found[fields[9]] = (int(fields[1].rsplit(":", 1)[1], 16), int(fields[7]))
    return found


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def socket_owners(proc="/proc"):
    """{inode: set of process names} for every socket a process holds open."""
    owners = {}
    for fd_dir in glob.glob(os.path.join(proc, "[0-9]*", "fd")):
        try:
            with open(os.path.join(os.path.dirname(fd_dir), "comm")) as handle:
                name = handle.read().strip()
            targets = [os.readlink(os.path.join(fd_dir, fd)) for fd in os.listdir(fd_dir)]
        except OSError:  # the process ended, or hides its fds
            continue
        for target in targets:
            if target.startswith("socket:["):
                owners.setdefault(target[8:-1], set()).add(name)
    return owners


def listening_ports(proc="/proc"):
    inodes = {}
    for table in ("tcp", "tcp6"):
        try:
            with open(os.path.join(proc, "net", table)) as handle:
                inodes.update(listening_inodes(handle.read().splitlines()))
        except OSError:
            continue
    owners = socket_owners(proc)
    ports = {}
    for inode, (port, uid) in inodes.items():
        # Without CAP_SYS_PTRACE (a container's root) other users' fds are
        # hidden: name the socket's owner instead.
        ports.setdefault(str(port), set()).update(owners.get(inode, {"a process of user %s" % user_name(uid)}))
    return {port: sorted(names) for port, names in ports.items()}


def app_claims(claims_dir):
    """The claims that can be read; a torn file protects nothing, as before claims."""
    return {app: claim for app, claim in read_claims(claims_dir).items() if claim is not None}


def asgi_units(unit_dir="/etc/systemd/system"):
    """{app: TCP port its socket unit listens on, 0 for a unix socket} for the
    units this collection wrote."""
    units = {}
    for path in sorted(glob.glob(os.path.join(unit_dir, "*.service"))):
        name = os.path.basename(path)[:-len(".service")]
        try:
            with open(path) as handle:
                if "(asgi.deploy)" not in handle.read(4096):
                    continue
            with open(os.path.join(unit_dir, name + ".socket")) as handle:
                listen = re.findall(r"^ListenStream=(.*)$", handle.read(), re.M)
        except OSError:
            listen = []
        port = listen[-1].rsplit(":", 1)[-1] if listen and not listen[-1].startswith("/") else "0"
        units[name] = int(port) if port.isdigit() else 0
    return units


UNIT_PROPERTIES = "Id,ActiveState,UnitFileState,MemoryMax,MemoryCurrent"


def memory_of(apps, show_output):
    """{app: {reserved_mb, used_mb}} from `systemctl show` of each app's service_units()."""
    units = {}
    for block in show_output.strip().split("\n\n"):
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if "Id" in fields:
            units[fields["Id"]] = fields
    memory = {}
    for app in apps:
        reserved, used = 0, 0
        for unit in service_units(app):
            fields = units.get(unit, {})
            if fields.get("MemoryCurrent", "").isdigit():
                used += int(fields["MemoryCurrent"])
            running = fields.get("ActiveState") in ("active", "activating", "reloading")
            if (running or fields.get("UnitFileState") == "enabled") and fields.get("MemoryMax", "").isdigit():
                reserved = max(reserved, int(fields["MemoryMax"]))
        memory[app] = {"reserved_mb": reserved // 2 ** 20, "used_mb": used // 2 ** 20}
    return memory


def host_claims(run_command, systemctl, claims_dir=CLAIMS_DIR):
    """What a host's names and ports belong to, and the memory each app of
    this collection reserves and uses (the host_claims module's result).
    run_command(argv) -> (rc, out, err); raises RuntimeError when systemctl fails."""
    units = asgi_units()
    apps = app_claims(claims_dir)
    names = sorted(set(apps) | {name for name in units if "@" not in name})
    show = ""
    if names:
        rc, show, err = run_command([systemctl, "show", "--property=" + UNIT_PROPERTIES]
                                    + [unit for name in names for unit in service_units(name)])
        if rc != 0:
            raise RuntimeError("systemctl show failed: %s" % err.strip())
    return {"users": {entry.pw_name: entry.pw_uid for entry in pwd.getpwall()},
            "groups": {entry.gr_name: entry.gr_gid for entry in grp.getgrall()},
            "listening": listening_ports(),
            "asgi_units": units,
            "apps": apps,
            "memory": memory_of(names, show)}
