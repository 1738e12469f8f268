#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: firewall_facts
short_description: Read a host's firewall of this collection in one call
version_added: 0.6.0
description:
  - What the firewall role needs to know before it writes anything - the
    flows every other deploy on the host keeps there (their files in
    O(rules_dir)), the sha256 of this deploy's flows file, of the nftables
    script and of the unit that loads it, whether the table in the kernel
    is the one the script makes, and whether C(nft) is installed.
  - Whether root may change the firewall at all (CAP_NET_ADMIN).
  - Where this run's SSH connection comes from (C(SSH_CONNECTION)). sudo and
    su do not pass it on, so it is read from the nearest process above the
    module that has it (the login shell), which root may read.
  - Read only. The role compares what it would write with what is there and
    writes, validates and loads only what differs, so that a host whose
    firewall is as the deploy wants costs this one call.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  name:
    description: This deploy's name (its flows file is O(rules_dir)/<name>.json).
    type: str
    required: true
  rules_dir:
    description: Folder of every deploy's flows.
    type: path
    required: true
  script:
    description: The nftables script of the whole table.
    type: path
    required: true
  unit:
    description: The unit file that loads the script at boot.
    type: path
    required: true
  table:
    description: The nftables table (family inet).
    type: str
    required: true
extends_documentation_fragment:
  - asgi.deploy.attributes.read_only
"""

EXAMPLES = r"""
- name: Read the firewall on the host
  asgi.deploy.firewall_facts:
    name: shop
    rules_dir: /etc/asgi-deploy/firewall.d
    script: /etc/asgi-deploy/firewall.nft
    unit: /etc/systemd/system/asgi-firewall.service
    table: asgi_deploy
  register: firewall
"""

RETURN = r"""
others:
  description: The flows files of the other deploys, by name order, each C({name, rules}); one that is not JSON is left out.
  returned: always
  type: list
  elements: dict
sha256:
  description: The sha256 of C(own) (this deploy's flows file), C(script) and C(unit), null for a file that is not there.
  returned: always
  type: dict
loaded:
  description:
    - Whether the table is loaded in the kernel as the script makes it - a
      rule added or deleted by hand makes it false. The script's table is made
      in a scratch network namespace to compare (C(unshare --net)); where the
      host allows none, whether the table is loaded at all.
  returned: always
  type: bool
enabled:
  description: Whether the unit that loads the script at boot is enabled.
  returned: always
  type: bool
nft:
  description: Whether C(nft) is installed.
  returned: always
  type: bool
net_admin:
  description: Whether this module's user (root) holds CAP_NET_ADMIN, without which no firewall can be changed (a container).
  returned: always
  type: bool
ssh_connection:
  description:
    - C(SSH_CONNECTION) of this run (client address and port, server address and port), empty when no process
      above the module has one (not SSH, such as C(docker exec), or a become method that starts the module elsewhere).
  returned: always
  type: str
  sample: 10.0.2.2 51234 10.0.2.15 22
"""

import glob
import hashlib
import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.asgi.deploy.plugins.module_utils.connection import ssh_connection


def sha256(path):
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


def net_admin(status_text):
    """Whether CAP_NET_ADMIN (bit 12) is in the effective capabilities of /proc/<pid>/status."""
    for line in status_text.splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> 12 & 1)
    return False


def in_force(module, nft, script, table):
    """Whether the kernel holds the table as the script makes it, listed
    without counters; the script's is made in a scratch network namespace,
    and where none can be, the table being there is taken for it."""
    if not nft:
        return False
    rc, live, _err = module.run_command([nft, "-s", "list", "table", "inet", table])
    if rc != 0:
        return False
    unshare = module.get_bin_path("unshare")
    if not unshare or not os.path.exists(script):
        return True
    rc, made, _err = module.run_command(
        [unshare, "--net", "sh", "-c", '"$1" -f "$2" && "$1" -s list table inet "$3"', "sh", nft, script, table])
    return rc != 0 or made == live


def other_flows(rules_dir, name):
    found = []
    for path in sorted(glob.glob(os.path.join(rules_dir, "*.json"))):
        if os.path.basename(path) == name + ".json":
            continue
        try:
            with open(path) as handle:
                found.append(json.load(handle))
        except (OSError, ValueError):
            continue
    return found


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            rules_dir=dict(type="path", required=True),
            script=dict(type="path", required=True),
            unit=dict(type="path", required=True),
            table=dict(type="str", required=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    nft = module.get_bin_path("nft")
    loaded = in_force(module, nft, params["script"], params["table"])
    systemctl = module.get_bin_path("systemctl", required=True)
    enabled = module.run_command([systemctl, "is-enabled", os.path.basename(params["unit"])])[1].strip() == "enabled"
    with open("/proc/self/status") as handle:
        status = handle.read()
    module.exit_json(changed=False, others=other_flows(params["rules_dir"], params["name"]), loaded=loaded,
                     enabled=enabled, nft=bool(nft), net_admin=net_admin(status),
                     ssh_connection=ssh_connection(os.environ, os.getppid()),
                     sha256={"own": sha256(os.path.join(params["rules_dir"], params["name"] + ".json")),
                             "script": sha256(params["script"]), "unit": sha256(params["unit"])})


if __name__ == "__main__":
    main()
