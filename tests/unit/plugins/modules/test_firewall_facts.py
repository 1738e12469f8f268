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
