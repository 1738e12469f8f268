# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: caddy_site_problems
short_description: What is wrong with a caddy role's sites and ACME settings
version_added: 0.2.0
description:
  - Checks what the caddy role's argument spec cannot express and returns one
    message per problem, naming the variable and what it allows; an empty
    list when there is none.
  - At least one site; every domain a name or an IP address, served by one
    site only; every upstream C(host:port) with a port from 1 to 65535, or
    C(unix//path); C(tls - files) with its certificate and key; an ACME email
    that is one, an C(https://) ACME directory, a C(host:port) metrics address.
positional: _input
options:
  _input:
    description: O(caddy_sites).
    type: list
    elements: dict
    required: true
  upstreams:
    description: O(caddy_upstreams), for sites that name none.
    type: list
    elements: str
    default: []
  acme_email:
    description: O(caddy_acme_email).
    type: str
    default: ""
  acme_ca:
    description: O(caddy_acme_ca).
    type: str
    default: ""
  metrics_listen:
    description: O(caddy_metrics_listen).
    type: str
    default: ""
author:
  - asgi.deploy contributors (@asgi-deploy)
"""

EXAMPLES = r"""
- name: Check the sites
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ caddy_sites | asgi.deploy.caddy_site_problems(upstreams=caddy_upstreams) }}"
"""

RETURN = r"""
_value:
  description: One message per problem.
  type: list
  elements: str
"""

import re

from ansible.errors import AnsibleFilterError

NAME = re.compile(r"^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
IP = re.compile(r"^([0-9]{1,3}\.){3}[0-9]{1,3}$|^\[?[0-9A-Fa-f:]+\]?$")
UPSTREAM = re.compile(r"^(unix//\S+|[A-Za-z0-9._-]+:([0-9]{1,5})|\[[0-9A-Fa-f:]+\]:([0-9]{1,5}))$")


def _upstream_problem(upstream):
    match = UPSTREAM.match(upstream)
    if not match:
        return "is not host:port or unix//path"
    port = match.group(2) or match.group(3)
    if port is not None and not 1 <= int(port) <= 65535:
        return "has port %s; a port is 1 to 65535" % port
    return ""


def caddy_site_problems(sites, upstreams=(), acme_email="", acme_ca="", metrics_listen=""):
    if not isinstance(sites, list):
        raise AnsibleFilterError("caddy_site_problems: caddy_sites must be a list of sites, got %r" % (sites,))
    problems = []
    if not sites:
        problems.append("caddy_sites is empty: Caddy would serve nothing; give at least one site with its domains")
    served = {}
    for index, site in enumerate(sites):
        where = "caddy_sites[%d]" % index
        domains = site.get("domains") or []
        if not domains:
            problems.append("%s.domains must name at least one domain" % where)
        for name in domains:
            if not (NAME.match(str(name)) or IP.match(str(name))):
                problems.append("%s.domains: '%s' is not a domain name or IP address" % (where, name))
            elif str(name).lower() in served:
                problems.append("%s.domains: '%s' is already served by %s; a domain belongs to one site"
                                % (where, name, served[str(name).lower()]))
            else:
                served[str(name).lower()] = where
        for upstream in site.get("upstreams", upstreams):
            problem = _upstream_problem(str(upstream))
            if problem:
                problems.append("%s upstream '%s' %s" % (where, upstream, problem))
        if site.get("tls", "acme") == "files" and not (site.get("tls_cert") and site.get("tls_key")):
            problems.append("%s has tls: files but no tls_cert and tls_key" % where)
    if acme_email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", acme_email):
        problems.append("caddy_acme_email must be an email address, got '%s'" % acme_email)
    if acme_ca and not acme_ca.startswith("https://"):
        problems.append("caddy_acme_ca must be an https:// directory URL, got '%s'" % acme_ca)
    if metrics_listen and not re.match(r"^[A-Za-z0-9._-]*:[0-9]{1,5}$", metrics_listen):
        problems.append("caddy_metrics_listen must be host:port, got '%s'" % metrics_listen)
    return problems


class FilterModule:
    def filters(self):
        return {"caddy_site_problems": caddy_site_problems}
