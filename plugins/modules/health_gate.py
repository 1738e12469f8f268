#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: health_gate
short_description: Wait until an app answers over its unix socket, or give up early when its unit has failed
version_added: 0.1.0
description:
  - Requests a path over a unix socket, or a TCP address, until it returns the
    expected status or the timeout passes.
  - Between tries it asks systemd for the unit's state, and stops waiting as
    soon as the unit has failed (for example after hitting its start limit),
    instead of waiting out the timeout on a socket nobody will serve.
  - With O(stable), a first good answer is not enough; the unit must then keep
    its main process and keep answering for that many seconds, so a release
    that crashes soon after it starts serving is caught too. A slow answer on
    a busy host is waited for (up to O(timeout) without any answer); another
    status or a new main process fails at once.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  socket:
    description: Path of the unix socket. One of O(socket) and O(address) is required.
    type: path
  address:
    description: C(host:port) to connect to instead of a unix socket.
    type: str
  path:
    description: The HTTP path to request.
    type: str
    default: /
  status:
    description: The status that means healthy.
    type: int
    default: 200
  timeout:
    description: Seconds to wait in all.
    type: int
    default: 60
  unit:
    description: systemd unit serving the socket; when it has failed, waiting stops.
    type: str
  stable:
    description:
      - Seconds the app must keep answering after its first good answer, with the
        main process of O(unit) unchanged. V(0) accepts the first good answer.
      - Requires O(unit) when above V(0).
    type: int
    default: 0
extends_documentation_fragment:
  - asgi.deploy.attributes
attributes:
  check_mode:
    description: Requests only, like a normal run.
    support: full
"""

EXAMPLES = r"""
- name: Wait for the app
  asgi.deploy.health_gate:
    socket: /run/myapp/myapp.sock
    path: /health
    unit: myapp.service
    timeout: 60
    stable: 5
"""

RETURN = r"""
status:
  description: The last status the app answered with, or null when it never answered.
  returned: always
  type: int
  sample: 200
attempts:
  description: Requests made.
  returned: always
  type: int
  sample: 3
elapsed:
  description: Seconds waited.
  returned: always
  type: float
  sample: 2.4
main_pid:
  description: The unit's main process when the app was judged healthy (0 without O(unit)).
  returned: success
  type: int
  sample: 4242
stable:
  description: Seconds the app was watched after its first good answer (O(stable)).
  returned: success
  type: int
  sample: 5
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.asgi.deploy.plugins.module_utils.serving import ask, wait_healthy, watch_stable


def main():
    module = AnsibleModule(
        argument_spec=dict(
            socket=dict(type="path"),
            address=dict(type="str"),
            path=dict(type="str", default="/"),
            status=dict(type="int", default=200),
            timeout=dict(type="int", default=60),
            unit=dict(type="str"),
            stable=dict(type="int", default=0),
        ),
        required_one_of=[("socket", "address")],
        mutually_exclusive=[("socket", "address")],
        supports_check_mode=True,
    )
    params = module.params
    target = params["socket"] or params["address"]
    if params["address"] and not params["address"].rpartition(":")[2].isdigit():
        module.fail_json(msg="health_gate: address must be host:port, got %s" % params["address"])
    if params["stable"] < 0 or (params["stable"] > 0 and not params["unit"]):
        module.fail_json(msg="health_gate: stable must be 0 or more seconds, and needs unit; got stable=%s unit=%s"
                         % (params["stable"], params["unit"]))
    systemctl = module.get_bin_path("systemctl") if params["unit"] else None
    start = time.monotonic()
    problem, attempts, status = wait_healthy(
        probe=lambda timeout: ask(target, params["path"], timeout), expected=params["status"],
        timeout=params["timeout"],
        failed=(lambda: run(module, [systemctl, "is-failed", params["unit"]]) == "failed") if systemctl else None)
    if problem:
        module.fail_json(msg="%s %s on %s" % (params["path"], problem, target),
                         status=status, attempts=attempts, elapsed=round(time.monotonic() - start, 2))
    main_pid = main_pid_of(module, systemctl, params["unit"]) if systemctl else 0
    problem, watched = watch_stable(
        probe=lambda: ask(target, params["path"], 5.0),
        pid=lambda: main_pid_of(module, systemctl, params["unit"]),
        main_pid=main_pid, expected=params["status"], stable=params["stable"],
        patience=params["timeout"]) if params["stable"] > 0 else (None, 0)
    attempts += watched
    if problem:
        module.fail_json(msg="%s answered %s, then %s; a release must keep serving for %ss"
                         % (params["path"], params["status"], problem, params["stable"]),
                         attempts=attempts, elapsed=round(time.monotonic() - start, 2))
    module.exit_json(changed=False, status=status, attempts=attempts, main_pid=main_pid,
                     elapsed=round(time.monotonic() - start, 2), stable=params["stable"])


def run(module, argv):
    _rc, out, _err = module.run_command(argv)
    return out.strip()


def main_pid_of(module, systemctl, unit):
    value = run(module, [systemctl, "show", "--property", "MainPID", "--value", unit])
    return int(value) if value.isdigit() else 0


if __name__ == "__main__":
    main()
