# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: app_conflicts
short_description: What an app's names and port would take from the host or from another app
version_added: 0.2.0
description:
  - Given what M(asgi.deploy.host_claims) read on a host and an app's settings,
    returns one message per conflict, each naming the variable and what it
    may not be; an empty list when there is none.
  - An account or group belongs to the app when its claim file lists it, or
    (for hosts deployed before claim files) when the app's unit was written
    by this collection.
  - Apps may share their socket group (O(socket_group)); nothing else.
  - Refused - an account or group that exists and is not the app's (C(root),
    a system user, another role's C(caddy) or C(postgres) even before it
    exists), a name or port another app of this collection claims, a TCP port
    something else listens on, and the ports an edge's Caddy needs.
positional: _input
options:
  _input:
    description: The result of M(asgi.deploy.host_claims).
    type: dict
    required: true
  name:
    description: O(app_name).
    type: str
    required: true
  socket_group:
    description: O(app_socket_group).
    type: str
    required: true
  tcp_port:
    description: O(app_tcp_port); 0 for the unix socket.
    type: int
    default: 0
author:
  - asgi.deploy contributors (@asgi-deploy)
"""

EXAMPLES = r"""
- name: Refuse names and ports that are taken
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ claims | asgi.deploy.app_conflicts(name=app_name, socket_group=app_socket_group, tcp_port=app_tcp_port) }}"
"""

RETURN = r"""
_value:
  description: One message per conflict.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

# Accounts other roles of this collection create: an app may never be one,
# even on a host where that role has not run yet.
OTHER_ROLES = {"caddy": "Caddy's (the caddy role)", "postgres": "PostgreSQL's (the postgresql role)"}
# Ports Caddy binds on an edge: HTTP, HTTPS and its admin endpoint.
EDGE_PORTS = (80, 443, 2019)


def _claim(claims, name, socket_group):
    """What the app owns on the host: its claim file, or, deployed before
    claim files, what the role made for the unit it wrote."""
    claim = claims.get("apps", {}).get(name)
    if claim:
        return claim
    if name in claims.get("asgi_units", {}):
        return {"user": name, "groups": [name, socket_group], "tcp_port": claims["asgi_units"][name]}
    return {}


def _socket_group(claim):
    """The group of an app's sockets; claims before 0.4 list it last in groups."""
    return claim.get("socket_group") or (claim.get("groups") or [None])[-1]


def app_conflicts(claims, name, socket_group, tcp_port=0):
    if not isinstance(claims, dict) or "users" not in claims or "groups" not in claims:
        raise AnsibleFilterError("app_conflicts: expected the result of asgi.deploy.host_claims, got %r" % (claims,))
    claim = _claim(claims, name, socket_group)
    ours = {claim.get("user")} | set(claim.get("groups", []))
    others = {other: c for other, c in claims.get("apps", {}).items() if other != name}
    # The socket group is the one name apps may share: the web server joins
    # it once and reaches every app's socket without a restart.
    shared = {_socket_group(c) for c in others.values()}
    problems = []
    for variable, account, kinds in (("app_name", name, ("users", "groups")), ("app_socket_group", socket_group, ("groups",))):
        if account in OTHER_ROLES:
            problems.append("%s '%s' is %s account; choose another" % (variable, account, OTHER_ROLES[account]))
            continue
        for kind in kinds:
            if account in claims[kind] and account not in ours and not (variable == "app_socket_group" and account in shared):
                problems.append("%s '%s' is an existing %s (id %d) that asgi.deploy did not create for this app; "
                                "deploying would take it over: choose another"
                                % (variable, account, "user" if kind == "users" else "group", claims[kind][account]))
                break
    for other, claim in sorted(others.items()):
        taken = {claim.get("user")} | set(claim.get("groups", []))
        for variable, account in (("app_name", name), ("app_socket_group", socket_group)):
            if account in taken and not (variable == "app_socket_group" and account == _socket_group(claim)):
                problems.append("%s '%s' is a name of app '%s', deployed on this host" % (variable, account, other))
        if tcp_port and claim.get("tcp_port") == tcp_port:
            problems.append("app_tcp_port %d is the port of app '%s', deployed on this host" % (tcp_port, other))
    if tcp_port in EDGE_PORTS:
        problems.append("app_tcp_port %d is a port Caddy needs on an edge (%s); choose another, such as 8000"
                        % (tcp_port, ", ".join(str(p) for p in EDGE_PORTS)))
    elif tcp_port:
        mine = claim.get("tcp_port") == tcp_port
        holders = claims.get("listening", {}).get(str(tcp_port), [])
        if holders and not mine:
            problems.append("app_tcp_port %d is in use on this host by %s; choose a free port"
                            % (tcp_port, ", ".join(holders)))
    return problems


class FilterModule:
    def filters(self):
        return {"app_conflicts": app_conflicts}
