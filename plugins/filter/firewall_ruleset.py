# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: firewall_ruleset
short_description: Inbound flows checked and put in the shape of nftables rules
version_added: 0.3.0
description:
  - Checks a list of inbound flows (the firewall role's O(firewall_rules) and
    the flows a playbook derives from its inventory) and returns them as
    rules the role's nftables template writes, IPv4 and IPv6 sources apart,
    duplicates left out, in the order given.
  - A flow is C(port) (1 to 65535, or a range C(low-high)), C(proto) (C(tcp),
    the default, or C(udp)), C(from) (a list of addresses or CIDRs, or
    C(any), the default) and C(comment). C(from - []) admits no one, so the
    flow is left out - a derived flow with no hosts never means anywhere.
  - Bad input raises an error naming the variable, the flow and what is allowed.
positional: _input, name
options:
  _input:
    description: The flows.
    type: list
    elements: dict
    required: true
  name:
    description: The variable the flows come from, for the error messages.
    type: str
    default: firewall_rules
author:
  - asgi.deploy contributors (@asgi-deploy)
"""

EXAMPLES = r"""
- name: Check the extra flows before anything changes
  ansible.builtin.set_fact:
    firewall__rules_checked: "{{ firewall_rules | asgi.deploy.firewall_ruleset('firewall_rules') | length >= 0 }}"
"""

RETURN = r"""
_value:
  description:
    - One rule per flow that admits someone - C(proto), C(port) (C(443) or
      C(9000-9100)), C(low), C(high), C(any) (true when from anywhere),
      C(ipv4) and C(ipv6) (the sources, sorted, overlaps merged), C(comment).
  type: list
  elements: dict
"""

import ipaddress
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.asgi.deploy.plugins.module_utils.connection import source_address

PROTOCOLS = ("tcp", "udp")
KEYS = ("port", "proto", "from", "comment")
# nftables keeps comments of up to 128 bytes, the deploy's name in front;
# quotes would end the string.
COMMENT = re.compile(r"^[^\"\\\n]{0,80}$")


def _port_range(port, where):
    if isinstance(port, bool):
        raise AnsibleFilterError("%s.port is %r: a port from 1 to 65535, or a range \"low-high\"" % (where, port))
    text = str(port).strip()
    match = re.match(r"^(\d+)(?:-(\d+))?$", text)
    if not match:
        raise AnsibleFilterError("%s.port is %r: a port from 1 to 65535, or a range \"low-high\"" % (where, port))
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if not 1 <= low <= high <= 65535:
        raise AnsibleFilterError("%s.port is %r: ports from 1 to 65535, the low end first" % (where, port))
    return low, high


def _source(text, where):
    try:
        network = ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        raise AnsibleFilterError("%s.from has %r: an IPv4 or IPv6 address or CIDR, or the word any for anywhere"
                                 % (where, text)) from None
    mapped = getattr(network.network_address, "ipv4_mapped", None)
    if mapped is not None:
        network = ipaddress.ip_network("%s/%d" % (mapped, max(network.prefixlen - 96, 0)))
    return network


def _text(network):
    return str(network.network_address) if network.prefixlen == network.max_prefixlen else str(network)


def _collapsed(networks, version):
    """Sources of one family, overlaps merged: nftables refuses overlapping
    intervals in a set."""
    return [_text(n) for n in ipaddress.collapse_addresses(n for n in networks or [] if n.version == version)]


def firewall_ruleset(flows, name="firewall_rules"):
    if not isinstance(flows, (list, tuple)):
        raise AnsibleFilterError("%s must be a list of flows ({port, proto, from, comment}), not %r" % (name, flows))
    rules = []
    for index, flow in enumerate(flows):
        where = "%s[%d]" % (name, index)
        if not isinstance(flow, dict):
            raise AnsibleFilterError("%s must be a flow ({port, proto, from, comment}), not %r" % (where, flow))
        unknown = sorted(set(flow) - set(KEYS))
        if unknown:
            raise AnsibleFilterError("%s has %s: a flow has only %s" % (where, ", ".join(unknown), ", ".join(KEYS)))
        if "port" not in flow:
            raise AnsibleFilterError("%s has no port: a port from 1 to 65535, or a range \"low-high\"" % where)
        low, high = _port_range(flow["port"], where)
        proto = flow.get("proto", "tcp")
        if proto not in PROTOCOLS:
            raise AnsibleFilterError("%s.proto is %r: one of %s" % (where, proto, ", ".join(PROTOCOLS)))
        comment = str(flow.get("comment", ""))
        if not COMMENT.match(comment):
            raise AnsibleFilterError("%s.comment: up to 80 characters, without quotes, backslashes or line breaks"
                                     % where)
        sources = flow.get("from", "any")
        if sources == "any":
            networks = None
        elif isinstance(sources, (list, tuple)):
            networks = [_source(source, where) for source in sources]
            if not networks:
                continue
        else:
            raise AnsibleFilterError("%s.from is %r: a list of addresses or CIDRs, or the word any" % (where, sources))
        rule = {
            "proto": proto,
            "port": str(low) if low == high else "%d-%d" % (low, high),
            "low": low,
            "high": high,
            "any": networks is None,
            "ipv4": _collapsed(networks, 4),
            "ipv6": _collapsed(networks, 6),
            "comment": comment,
        }
        if rule not in rules:
            rules.append(rule)
    return rules


def firewall_admits(rules, address, port, proto="tcp"):
    """Whether a rule set made by firewall_ruleset lets a packet from address to port in."""
    source = _source(address, "address").network_address
    for rule in rules:
        if rule["proto"] != proto or not rule["low"] <= int(port) <= rule["high"]:
            continue
        if rule["any"]:
            return True
        for network in rule["ipv%d" % source.version]:
            if source in ipaddress.ip_network(network):
                return True
    return False


def host_addresses(facts):
    """The addresses other hosts see a host's connections come from: every
    IPv4 and IPv6 address of its facts except loopback and link-local."""
    addresses = []
    for host_facts in facts:
        for address in list(host_facts.get("all_ipv4_addresses", [])) + list(host_facts.get("all_ipv6_addresses", [])):
            source = source_address(address)
            if source and source not in addresses:
                addresses.append(source)
    return addresses


class FilterModule:
    def filters(self):
        return {"firewall_ruleset": firewall_ruleset, "firewall_admits": firewall_admits,
                "host_addresses": host_addresses}
