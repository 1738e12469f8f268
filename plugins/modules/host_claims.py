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
extends_documentation_fragment:
  - asgi.deploy.attributes.read_only
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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.asgi.deploy.plugins.module_utils.claims import CLAIMS_DIR, host_claims


def main():
    module = AnsibleModule(argument_spec=dict(claims_dir=dict(type="path", default=CLAIMS_DIR)),
                           supports_check_mode=True)
    try:
        claims = host_claims(module.run_command, module.get_bin_path("systemctl", required=True),
                             module.params["claims_dir"])
    except RuntimeError as error:
        module.fail_json(msg="host_claims: %s" % error)
    module.exit_json(changed=False, **claims)


if __name__ == "__main__":
    main()
