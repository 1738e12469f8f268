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
    that is one, an C(https://) ACME directory, a C(host:port) metrics address,
    the access log's roll size and kept files whole numbers of 1 or more.
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
  roll_size_mb:
    description: O(caddy_access_log_roll_size_mb).
    type: int
    default: 100
  roll_keep:
    description: O(caddy_access_log_roll_keep).
    type: int
    default: 10
  gomaxprocs:
    description: O(caddy_gomaxprocs).
    type: int
    default: 0
  name:
    description: O(caddy_sites_name), the app these sites belong to.
    type: str
    default: sites
  taken:
    description:
      - "The header lines of the sites files already on the edge, as
        C(grep -H) prints them (C(<path>:# asgi.deploy sites: <json>)). A
        domain that another app's file serves is refused, naming both apps."
    type: list
    elements: str
    default: []
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

import json
import os
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


HEADER = "# asgi.deploy sites: "


def _taken_domains(lines, name):
    """{domain: app} of the other apps' sites files, from their header lines."""
    taken = {}
    for line in lines:
        path, _sep, header = str(line).partition(":")
        try:
            claim = json.loads(header[len(HEADER):]) if header.startswith(HEADER) else None
        except ValueError:
            claim = None
        if not isinstance(claim, dict):
            raise AnsibleFilterError("caddy_site_problems: taken has a line that is not a sites header: %r" % (line,))
        other = claim.get("name") or os.path.basename(path)[:-len(".caddy")]
        if other != name:
            for domain in claim.get("domains", []):
                taken[str(domain).lower()] = (other, path)
    return taken


def caddy_site_problems(sites, upstreams=(), acme_email="", acme_ca="", metrics_listen="", roll_size_mb=100, roll_keep=10,
                        gomaxprocs=0, name="sites", taken=()):
    if not isinstance(sites, list):
        raise AnsibleFilterError("caddy_site_problems: caddy_sites must be a list of sites, got %r" % (sites,))
    problems = []
    if not sites:
        problems.append("caddy_sites is empty: Caddy would serve nothing; give at least one site with its domains")
    if not re.match(r"^[a-z0-9][a-z0-9_-]{0,63}$", name):
        problems.append("caddy_sites_name must be lower-case letters, digits, '-' and '_' (the name of this app's "
                        "sites file), got '%s'" % name)
    served = {}
    others = _taken_domains(taken, name)
    for index, site in enumerate(sites):
        where = "caddy_sites[%d]" % index
        domains = site.get("domains") or []
        if not domains:
            problems.append("%s.domains must name at least one domain" % where)
        for domain in domains:
            if not (NAME.match(str(domain)) or IP.match(str(domain))):
                problems.append("%s.domains: '%s' is not a domain name or IP address" % (where, domain))
            elif str(domain).lower() in served:
                problems.append("%s.domains: '%s' is already served by %s; a domain belongs to one site"
                                % (where, domain, served[str(domain).lower()]))
            elif str(domain).lower() in others:
                problems.append("%s.domains: '%s' of app '%s' is already served by app '%s' on this edge (%s); "
                                "a domain belongs to one app: remove it there first, or choose another"
                                % ((where, domain, name) + others[str(domain).lower()]))
            else:
                served[str(domain).lower()] = where
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
    for variable, value in (("caddy_access_log_roll_size_mb", roll_size_mb), ("caddy_access_log_roll_keep", roll_keep)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append("%s must be a whole number of 1 or more, got %r" % (variable, value))
    if isinstance(gomaxprocs, bool) or not isinstance(gomaxprocs, int) or gomaxprocs < 0:
        problems.append("caddy_gomaxprocs must be 0 (the role sets Caddy's share of the CPUs) or a whole number of "
                        "threads of 1 or more, got %r" % (gomaxprocs,))
    return problems


class FilterModule:
    def filters(self):
        return {"caddy_site_problems": caddy_site_problems}
