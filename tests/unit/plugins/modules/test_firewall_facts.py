# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import hashlib
import json

from ansible_collections.asgi.deploy.plugins.modules import firewall_facts


def test_the_other_deploys_flows_in_name_order_without_this_one_or_a_torn_file(tmp_path):
    for name in ("shop", "blog", "admin"):
        (tmp_path / (name + ".json")).write_text(json.dumps({"name": name, "rules": []}))
    (tmp_path / "torn.json").write_text('{"name": "torn", "rul')
    assert [deploy["name"] for deploy in firewall_facts.other_flows(str(tmp_path), "shop")] == ["admin", "blog"]
    assert firewall_facts.other_flows(str(tmp_path / "missing"), "shop") == []


def test_digests_of_files_and_none_for_a_missing_one(tmp_path):
    (tmp_path / "script").write_text("table inet asgi_deploy\n")
    assert firewall_facts.sha256(str(tmp_path / "script")) == hashlib.sha256(b"table inet asgi_deploy\n").hexdigest()
    assert firewall_facts.sha256(str(tmp_path / "missing")) is None


def test_root_may_change_the_firewall_only_with_cap_net_admin():
    assert firewall_facts.net_admin("Name:\tpython3\nCapEff:\t000001ffffffffff\n")
    # A container's root without NET_ADMIN (Docker's default set).
    assert not firewall_facts.net_admin("CapEff:\t00000000a80425fb\n")
    assert not firewall_facts.net_admin("Name:\tpython3\n")


class Nft:
    """run_command as nft and unshare would answer: the live table, and the
    one the script makes in a scratch namespace (None: no namespace allowed)."""

    def __init__(self, live, made, unshare=True):
        self.live, self.made, self.unshare = live, made, unshare

    def get_bin_path(self, name):
        return "/usr/bin/unshare" if name == "unshare" and self.unshare else None

    def run_command(self, argv):
        if argv[0].endswith("unshare"):
            return (1, "", "Operation not permitted") if self.made is None else (0, self.made, "")
        return (1, "", "No such file or directory") if self.live is None else (0, self.live, "")


def test_the_table_counts_as_loaded_only_as_the_script_makes_it(tmp_path):
    script = tmp_path / "firewall.nft"
    script.write_text("table inet asgi_deploy {}\n")
    table = "table inet asgi_deploy {\n\tchain input {\n\t\ttcp dport 443 accept\n\t}\n}\n"
    added = table.replace("443 accept\n", "443 accept\n\t\ttcp dport 9999 accept\n")

    def loaded(live, made, unshare=True):
        return firewall_facts.in_force(Nft(live, made, unshare), "/usr/sbin/nft", str(script), "asgi_deploy")

    assert loaded(table, table)
    assert not loaded(added, table)
    assert not loaded(None, table)
    # No scratch namespace allowed, or no unshare: a loaded table is taken for the script's.
    assert loaded(added, None) and loaded(added, table, unshare=False)
    assert not firewall_facts.in_force(Nft(table, table), None, str(script), "asgi_deploy")
