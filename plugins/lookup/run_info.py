# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: run_info
short_description: Who runs this ansible-playbook, from where, and since when
version_added: 0.5.0
description:
  - Names the current run for the deploy lock and the deploy history - the
    controller's user and host name, the pid of the C(ansible-playbook)
    process, the playbooks it was given and when it started.
  - The same answer in every task of a run, on every host, so the run that
    holds a lock recognises it; C(id) joins the four.
  - The start is read from C(/proc) (a Linux controller) - in the id as the
    boot and the seconds since it, which a change of the wall clock leaves
    alone; elsewhere it is null and the id is made of the other three.
author:
  - asgi.deploy contributors (@asgi-deploy)
"""

EXAMPLES = r"""
- name: Show who runs this deploy
  ansible.builtin.debug:
    msg: "{{ lookup('asgi.deploy.run_info') }}"
"""

RETURN = r"""
_raw:
  description: One dict.
  type: list
  elements: dict
  contains:
    id:
      description: C(user@host:pid:boot:since_boot), unique per run.
      type: str
    user:
      description: The controller's user.
      type: str
    host:
      description: The controller's host name.
      type: str
    pid:
      description: The pid of the ansible-playbook process.
      type: int
    playbook:
      description: The playbooks of the command line, by base name, comma separated.
      type: str
    started:
      description: When that process started, in seconds since the epoch; null where unknown.
      type: int
    boot:
      description: The controller's boot id; null where unknown.
      type: str
    since_boot:
      description: When that process started, in seconds since that boot; null where unknown.
      type: float
"""

import getpass
import os
import socket

from ansible import context
from ansible.plugins.lookup import LookupBase
from ansible_collections.asgi.deploy.plugins.module_utils.serving import started_after_boot
from ansible_collections.asgi.deploy.plugins.plugin_utils.runs import boot_id, playbook_process, started


def run_info():
    pid = playbook_process()
    boot, since_boot = boot_id(), started_after_boot(pid)
    user, host = getpass.getuser(), socket.gethostname()
    books = ",".join(os.path.basename(str(book)) for book in (context.CLIARGS.get("args") or ())) or "?"
    ident = "%s@%s:%d" % (user, host, pid) + (":%s:%.2f" % (boot, since_boot) if since_boot is not None else "")
    return {"id": ident, "user": user, "host": host, "pid": pid, "playbook": books, "started": started(pid),
            "boot": boot, "since_boot": since_boot}


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return [run_info()]
