#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_claims
short_description: What a host's names and ports already belong to
version_added: 0.2.0
description:
  - Reads, in one call, what an app deploy must not take over on a host - its
    user and group accounts, the TCP ports something listens on and which
    process holds each, and the claims of the apps this collection deployed
    there (one JSON file per app under O(claims_dir), written by the app role
    before it creates anything).
  - For the memory budget of a host shared by several apps, the memory each
    of those apps reserves (the C(MemoryMax=) of its running or enabled
    service units) and uses now (their C(MemoryCurrent)).
  - Read only. The filter M(asgi.deploy.app_conflicts) turns the result and an
    app's settings into the problems to refuse.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  claims_dir:
    description: Folder of the apps' claim files.
    type: path
    default: /etc/asgi-deploy/apps
attributes:
  check_mode:
    description: Reads only.
    support: full
  diff_mode:
    description: Nothing to diff.
    support: none
"""

EXAMPLES = r"""
- name: Read what the host's names and ports belong to
  asgi.deploy.host_claims:
  register: claims
"""

RETURN = r"""
users:
  description: Account names and their uids.
  returned: always
  type: dict
  sample: {root: 0, caddy: 998}
groups:
  description: Group names and their gids.
  returned: always
  type: dict
  sample: {root: 0, caddy: 998}
listening:
  description:
    - TCP ports with a listening socket, each with the processes that hold it
      ("systemd" for a socket unit), or the socket's user where the process
      cannot be seen.
  returned: always
  type: dict
  sample: {"443": ["caddy"], "8000": ["systemd"]}
asgi_units:
  description:
    - Apps whose service unit this collection wrote, claim file or not (deploys
      from before claim files), with the TCP port of their socket unit (0 for a
      unix socket).
  returned: always
  type: dict
  sample: {example: 0}
apps:
  description: The claim of each app this collection deployed on the host, by app name.
  returned: always
  type: dict
  sample: {example: {user: example, groups: [example, asgi-web], socket_group: asgi-web, tcp_port: 0}}
memory:
  description:
    - Per app of RV(apps) and RV(asgi_units), the memory in MiB its service
      units reserve (the largest C(MemoryMax=) of a running or enabled one;
      0 when none) and use now (the sum of their C(MemoryCurrent)).
  returned: always
  type: dict
  sample: {example: {reserved_mb: 576, used_mb: 141}}
"""

import glob
import grp
import os
import pwd
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.asgi.deploy.plugins.module_utils.claims import CLAIMS_DIR, read_claims

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


def app_units(app):
    """The service units an app of this collection may run: its two slots,
    and the single unit of deploys before slots."""
    return ["%s@blue.service" % app, "%s@green.service" % app, "%s.service" % app]


def memory_of(apps, show_output):
    """{app: {reserved_mb, used_mb}} from `systemctl show` of app_units()."""
    units = {}
    for block in show_output.strip().split("\n\n"):
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if "Id" in fields:
            units[fields["Id"]] = fields
    memory = {}
    for app in apps:
        reserved, used = 0, 0
        for unit in app_units(app):
            fields = units.get(unit, {})
            if fields.get("MemoryCurrent", "").isdigit():
                used += int(fields["MemoryCurrent"])
            running = fields.get("ActiveState") in ("active", "activating", "reloading")
            if (running or fields.get("UnitFileState") == "enabled") and fields.get("MemoryMax", "").isdigit():
                reserved = max(reserved, int(fields["MemoryMax"]))
        memory[app] = {"reserved_mb": reserved // 2 ** 20, "used_mb": used // 2 ** 20}
    return memory


def main():
    module = AnsibleModule(argument_spec=dict(claims_dir=dict(type="path", default=CLAIMS_DIR)),
                           supports_check_mode=True)
    units = asgi_units()
    apps = app_claims(module.params["claims_dir"])
    names = sorted(set(apps) | {name for name in units if "@" not in name})
    show = ""
    if names:
        systemctl = module.get_bin_path("systemctl", required=True)
        rc, show, err = module.run_command([systemctl, "show", "--property=" + UNIT_PROPERTIES]
                                           + [unit for name in names for unit in app_units(name)])
        if rc != 0:
            module.fail_json(msg="host_claims: systemctl show failed: %s" % err.strip())
    module.exit_json(changed=False,
                     users={entry.pw_name: entry.pw_uid for entry in pwd.getpwall()},
                     groups={entry.gr_name: entry.gr_gid for entry in grp.getgrall()},
                     listening=listening_ports(),
                     asgi_units=units,
                     apps=apps,
                     memory=memory_of(names, show))


if __name__ == "__main__":
    main()
