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


def fake_process(proc, pid, parent, environ, name="sh"):
    folder = proc / str(pid)
    folder.mkdir()
    (folder / "environ").write_bytes(b"\0".join(b"%s=%s" % (k.encode(), v.encode()) for k, v in environ.items()) + b"\0")
    (folder / "stat").write_text("%d (%s) S %d 1 1 0 -1\n" % (pid, name, parent))


def test_ssh_connection_is_read_above_sudo_from_the_login_shell(tmp_path):
    # python (module) <- sh <- sudo (env reset) <- bash -c (the login's, with SSH_CONNECTION) <- sshd
    fake_process(tmp_path, 900, 800, {"PATH": "/usr/bin"})
    fake_process(tmp_path, 800, 700, {"SUDO_USER": "deploy"}, name="sudo) S 1 (x")
    fake_process(tmp_path, 700, 600, {"SSH_CONNECTION": "10.0.2.2 51234 10.0.2.15 22", "USER": "deploy"})
    fake_process(tmp_path, 600, 1, {})
    assert firewall_facts.ssh_connection({}, 900, str(tmp_path)) == "10.0.2.2 51234 10.0.2.15 22"
    assert firewall_facts.ssh_connection({"SSH_CONNECTION": "own"}, 900, str(tmp_path)) == "own"


def test_no_ssh_connection_above_docker_exec_or_past_an_unreadable_process(tmp_path):
    fake_process(tmp_path, 50, 0, {"PATH": "/usr/bin"})
    assert firewall_facts.ssh_connection({}, 50, str(tmp_path)) == ""
    fake_process(tmp_path, 60, 70, {})
    assert firewall_facts.ssh_connection({}, 60, str(tmp_path)) == ""
