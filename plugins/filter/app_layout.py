# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: app_layout
short_description: Where an app lives on a host - its folders, slots, units and sockets
version_added: 0.6.0
description:
  - The paths and unit names of an app of this collection that do not depend
    on a run, for the playbooks that act on a deployed app without planning
    a deploy (remove, restore, status). A deploy's plan
    (P(asgi.deploy.app_plan#filter)) holds the same keys.
positional: _input
options:
  _input:
    description: The app's name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Stop both slots
  ansible.builtin.systemd_service:
    name: "{{ item }}"
    state: stopped
  loop: "{{ ('shop' | asgi.deploy.app_layout).slot_units }}"
"""

RETURN = r"""
_value:
  description: The layout.
  type: dict
  contains:
    root:
      description: C(/opt/<app>); likewise C(releases), C(current), C(previous), C(etc), C(state), C(run_dir), C(tmpfiles), C(run_command), C(deploy_dir).
      type: str
    socket:
      description: The stable socket path, a symlink to the serving slot's socket.
      type: str
    hold_socket:
      description: >-
        The socket the stable path links to while no slot serves (a switch that stops the serving slot first),
        served by the transient units C(hold_unit); C(hold_target) links to the slot that takes its queue.
      type: str
    slots:
      description: Per slot (C(blue), C(green)) its C(unit), C(socket_unit), C(service_unit), C(socket), C(env_file) and C(workers_file).
      type: dict
    slot_units:
      description: Every slot's socket and service unit, sockets first.
      type: list
      elements: str
    tcp_unit:
      description: The TCP front's unit name without suffix; C(tcp_units) with them.
      type: str
    legacy_units:
      description: The single-slot units of collection versions before 0.3.
      type: list
      elements: str
"""

import re

from ansible.errors import AnsibleFilterError
from ansible_collections.asgi.deploy.plugins.module_utils.layout import app_layout as layout_of
from ansible_collections.asgi.deploy.plugins.module_utils.layout import slot_units


def app_layout(name):
    if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9-]{0,30}$", name):
        raise AnsibleFilterError("app_layout: expects an app name (lower-case letters, digits and dashes), got %r"
                                 % (name,))
    layout = layout_of(name)
    layout["slot_units"] = slot_units(name)
    return layout


class FilterModule(object):
    """asgi.deploy app layout."""

    def filters(self):
        return {"app_layout": app_layout}
