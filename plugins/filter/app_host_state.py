# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: app_host_state
short_description: What serves an app on a host, from one shell round trip
version_added: 0.3.0
description:
  - Reads the output of the app role's facts step - C(live=) the stable
    socket's link target, C(current=) the current release's link target, then
    C(systemctl show --property=Id,LoadState,ActiveState,UnitFileState,MemoryCurrent) of the
    slot, legacy and TCP units - and says which slot serves, which one a new
    release starts in, and whether the serving slot is whole.
positional: _input
options:
  _input:
    description: The facts step's output.
    type: str
    required: true
  app_name:
    description: The app's name; its slot units are C(<app_name>@<slot>.socket) and C(.service).
    type: str
    required: true
  slots:
    description: The slot names.
    type: list
    elements: str
    default: [blue, green]
"""

EXAMPLES = r"""
- name: Note what serves
  ansible.builtin.set_fact:
    app__now: "{{ app__host_state.stdout | asgi.deploy.app_host_state(app_name) }}"
"""

RETURN = r"""
_value:
  description: The state.
  type: dict
  contains:
    live:
      description: The slot the stable socket points at, or an empty string when it points at none.
      type: str
    next:
      description: The slot a new release starts in (the other one).
      type: str
    current:
      description: The release current links to (its folder's name), or an empty string.
      type: str
    units:
      description: Each unit's C(load), C(active) and C(enabled) state (from LoadState, ActiveState, UnitFileState).
      type: dict
    serving:
      description: Whether the live slot's socket and service are both active and enabled.
      type: bool
    live_memory_mb:
      description: Memory the serving slot's service uses now (C(MemoryCurrent)), in MiB; V(0) when no slot serves.
      type: int
    strays:
      description: Units of the other slot that are active (a run stopped between starting a release and switching).
      type: list
      elements: str
    legacy:
      description: Whether the single-slot units of collection versions before 0.3 are installed.
      type: bool
    tcp_installed:
      description: Whether the TCP front's socket (C(<app_name>-tcp.socket)) is installed.
      type: bool
    tcp_serving:
      description: Whether the TCP front's socket is active and enabled.
      type: bool
"""

import posixpath

from ansible.errors import AnsibleFilterError


def _units(lines):
    units, unit = {}, {}
    for line in lines + [""]:
        if not line.strip():
            if "Id" in unit:
                used = unit.get("MemoryCurrent", "")
                units[unit["Id"]] = {"load": unit.get("LoadState", ""), "active": unit.get("ActiveState", ""),
                                     "enabled": unit.get("UnitFileState", ""),
                                     "memory_mb": int(used) // (1 << 20) if used.isdigit() else 0}
            unit = {}
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise AnsibleFilterError("app_host_state: expected KEY=value, got %r" % line)
        unit[key] = value
    return units


def app_host_state(text, app_name, slots=("blue", "green")):
    if not isinstance(text, str):
        raise AnsibleFilterError("app_host_state: expects the facts step's output as text, got %s"
                                 % type(text).__name__)
    slots = list(slots)
    if len(slots) != 2:
        raise AnsibleFilterError("app_host_state: expects two slots, got %r" % (slots,))
    lines = text.splitlines()
    head = dict(line.partition("=")[::2] for line in lines[:2])
    if set(head) != {"live", "current"}:
        raise AnsibleFilterError("app_host_state: the output must start with live= and current= lines")
    link = head["live"]
    live = posixpath.basename(link)[:-len(".sock")] if link.endswith(".sock") else ""
    if live not in slots:
        live = ""
    following = slots[1] if live == slots[0] else slots[0]
    units = _units(lines[2:])

    def unit(slot, kind):
        return units.get("%s@%s.%s" % (app_name, slot, kind), {})

    serving = bool(live) and all(unit(live, kind).get("active") == "active"
                                 and unit(live, kind).get("enabled") == "enabled"
                                 for kind in ("socket", "service"))
    strays = ["%s@%s.%s" % (app_name, following, kind) for kind in ("socket", "service")
              if unit(following, kind).get("active") in ("active", "activating", "reloading", "deactivating")]
    legacy = any(units.get("%s.%s" % (app_name, kind), {}).get("load") == "loaded" for kind in ("socket", "service"))
    tcp = units.get("%s-tcp.socket" % app_name, {})
    live_memory = unit(live, "service").get("memory_mb", 0) if live else 0
    return {"live": live, "next": following, "current": posixpath.basename(head["current"]),
            "units": units, "serving": serving, "live_memory_mb": live_memory, "strays": strays, "legacy": legacy,
            "tcp_installed": tcp.get("load") == "loaded",
            "tcp_serving": tcp.get("active") == "active" and tcp.get("enabled") == "enabled"}


class FilterModule(object):
    """asgi.deploy host state."""

    def filters(self):
        return {"app_host_state": app_host_state}
