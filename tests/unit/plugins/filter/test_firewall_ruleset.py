# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.asgi.deploy.plugins.filter.firewall_ruleset import (firewall_admits, firewall_ruleset,
                                                                             host_addresses)

FLOWS = [
    {"port": 443, "comment": "HTTPS"},
    {"port": "443", "proto": "udp"},
    {"port": "8000", "from": ["10.0.0.7", "10.0.0.0/24", "::ffff:192.0.2.5", "2001:db8::1", "2001:db8::/64"]},
    {"port": "9000-9100", "from": ["198.51.100.0/24"]},
]


def test_flows_become_rules_with_the_families_apart():
    rules = firewall_ruleset(FLOWS)
    assert [(r["proto"], r["port"], r["any"]) for r in rules] == [
        ("tcp", "443", True), ("udp", "443", True), ("tcp", "8000", False), ("tcp", "9000-9100", False)]
    # Overlaps merged (nftables refuses them in one set), the mapped address as IPv4.
    assert rules[2]["ipv4"] == ["10.0.0.0/24", "192.0.2.5"]
    assert rules[2]["ipv6"] == ["2001:db8::/64"]
    assert rules[0]["comment"] == "HTTPS" and rules[1]["comment"] == ""


def test_a_flow_from_no_one_is_left_out_not_opened_to_anyone():
    assert firewall_ruleset([{"port": 5432, "from": []}]) == []


def test_the_same_flow_twice_is_one_rule():
    assert len(firewall_ruleset([{"port": 22}, {"port": 22, "proto": "tcp", "from": "any"}])) == 1


@pytest.mark.parametrize("address, port, proto, admitted", [
    ("203.0.113.9", 443, "tcp", True),
    ("203.0.113.9", 443, "udp", True),
    ("203.0.113.9", 80, "tcp", False),
    ("10.0.0.200", 8000, "tcp", True),
    ("10.0.1.1", 8000, "tcp", False),
    ("::ffff:10.0.0.3", 8000, "tcp", True),
    ("2001:db8::abcd", 8000, "tcp", True),
    ("2001:db8:1::1", 8000, "tcp", False),
    ("198.51.100.20", 9050, "tcp", True),
    ("198.51.100.20", 9101, "tcp", False),
    ("198.51.100.20", 9050, "udp", False),
])
def test_admits(address, port, proto, admitted):
    assert firewall_admits(firewall_ruleset(FLOWS), address, port, proto) is admitted


def test_a_rule_set_without_ssh_does_not_admit_the_controller():
    assert not firewall_admits(firewall_ruleset([{"port": 22, "from": ["192.0.2.1"]}]), "192.0.2.2", 22)


@pytest.mark.parametrize("flows, expected", [
    ("22", "firewall_rules must be a list of flows"),
    (["22"], "firewall_rules[0] must be a flow"),
    ([{"from": "any"}], "firewall_rules[0] has no port"),
    ([{"port": 0}], "firewall_rules[0].port is 0: ports from 1 to 65535"),
    ([{"port": 70000}], "firewall_rules[0].port is 70000"),
    ([{"port": "90-80"}], "the low end first"),
    ([{"port": "http"}], "firewall_rules[0].port is 'http': a port from 1 to 65535, or a range"),
    ([{"port": True}], "firewall_rules[0].port is True"),
    ([{"port": 22}, {"port": 22, "proto": "icmp"}], "firewall_rules[1].proto is 'icmp': one of tcp, udp"),
    ([{"port": 22, "from": ["10.0.0.300"]}], "firewall_rules[0].from has '10.0.0.300': an IPv4 or IPv6 address"),
    ([{"port": 22, "from": "10.0.0.1"}], "firewall_rules[0].from is '10.0.0.1': a list of addresses"),
    ([{"port": 22, "source": ["10.0.0.1"]}], "firewall_rules[0] has source: a flow has only port, proto, from"),
    ([{"port": 22, "comment": 'say "hi"'}], "firewall_rules[0].comment: up to 80 characters, without quotes"),
    ([{"port": 22, "comment": "x" * 81}], "firewall_rules[0].comment: up to 80 characters"),
])
def test_bad_flows_are_named(flows, expected):
    with pytest.raises(AnsibleFilterError) as error:
        firewall_ruleset(flows)
    assert expected in str(error.value)


def test_the_variable_is_named_in_the_error():
    with pytest.raises(AnsibleFilterError) as error:
        firewall_ruleset([{"port": -1}], "firewall_flows")
    assert str(error.value).startswith("firewall_flows[0].port")


def test_host_addresses_leave_out_loopback_and_link_local():
    facts = [{"all_ipv4_addresses": ["172.18.0.3", "127.0.0.1"], "all_ipv6_addresses": ["fe80::1%eth0", "2001:db8::3"]},
             {"all_ipv4_addresses": ["172.18.0.3", "172.18.0.4"]},
             {}]
    assert host_addresses(facts) == ["172.18.0.3", "2001:db8::3", "172.18.0.4"]
