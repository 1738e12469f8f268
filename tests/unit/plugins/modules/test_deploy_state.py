# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import os
import stat

from ansible_collections.asgi.deploy.plugins.modules import deploy_state


class Module:
    def __init__(self, check_mode=False):
        self.check_mode = check_mode


def test_a_file_counts_by_content_mode_and_owner_a_link_by_target(tmp_path):
    env = tmp_path / "blue.env"
    env.write_text("A=1\n")
    os.chmod(str(env), 0o640)
    before = deploy_state.path_state(str(env))
    assert before.startswith("file ") and " 640 " in before
    os.chmod(str(env), 0o644)
    assert deploy_state.path_state(str(env)) != before
    env.write_text("A=2\n")
    os.chmod(str(env), 0o640)
    assert deploy_state.path_state(str(env)) != before
    os.symlink("releases/3f2a", str(tmp_path / "current"))
    assert deploy_state.path_state(str(tmp_path / "current")) == "link releases/3f2a"
    assert deploy_state.path_state(str(tmp_path / "missing")) == "absent"


def test_globs_walk_folders_and_a_glob_that_matches_nothing_is_absent(tmp_path):
    (tmp_path / "etc" / "credentials" / "blue").mkdir(parents=True)
    (tmp_path / "etc" / "credentials" / "blue" / "token").write_text("s3cret")
    (tmp_path / "shop@blue.service").write_text("[Service]\n")
    found = deploy_state.files_state([str(tmp_path / "etc"), str(tmp_path / "shop@*"), str(tmp_path / "shop-tcp.*")])
    assert sorted(found) == sorted([str(tmp_path / "etc"), str(tmp_path / "etc" / "credentials"),
                                    str(tmp_path / "etc" / "credentials" / "blue"),
                                    str(tmp_path / "etc" / "credentials" / "blue" / "token"),
                                    str(tmp_path / "shop@blue.service"), str(tmp_path / "shop-tcp.*")])
    assert found[str(tmp_path / "shop-tcp.*")] == "absent"
    assert "s3cret" not in json.dumps(found)


def test_differences_name_each_path_unit_table_and_package_that_changed():
    recorded = {"files": {"/etc/shop/blue.env": "file a 640 0:998", "/etc/shop/old": "file b 644 0:0",
                          "/opt/shop/current": "link releases/1"},
                "listings": {"/venv/*.dist-info": ["idna-3.10.dist-info", "six-1.17.0.dist-info"]},
                "units": {"shop@blue.service": "active", "caddy.service": "active"},
                "nft_tables": {"inet asgi_deploy": "d1"}, "capacity": "1024 MiB, 2.0 CPUs"}
    assert deploy_state.differences(recorded, json.loads(json.dumps(recorded))) == []
    now = {"files": {"/etc/shop/blue.env": "file c 640 0:998", "/etc/shop/new": "file d 644 0:0",
                     "/opt/shop/current": "link releases/1"},
           "listings": {"/venv/*.dist-info": ["idna-3.7.dist-info", "six-1.17.0.dist-info"]},
           "units": {"shop@blue.service": "failed", "caddy.service": "active"},
           "nft_tables": {"inet asgi_deploy": "absent"}, "capacity": "512 MiB, 2.0 CPUs"}
    assert deploy_state.differences(recorded, now) == [
        "changed: /etc/shop/blue.env", "new: /etc/shop/new", "gone: /etc/shop/old",
        "changed: /venv/*.dist-info (- idna-3.10.dist-info, + idna-3.7.dist-info)",
        "shop@blue.service is failed, was active",
        "the nftables table inet asgi_deploy is gone",
        "the host's memory and CPUs are 512 MiB, 2.0 CPUs, were 1024 MiB, 2.0 CPUs"]


def test_a_probe_must_answer_the_status_recorded():
    answers = {"/run/shop/shop.sock": (200, None, "ok"), "/run/blog/blog.sock": (None, "ConnectionRefusedError: 111", "")}
    probes = [{"url": "/run/shop/shop.sock", "path": "/health", "status": "200"},
              {"url": "/run/blog/blog.sock", "path": "/", "status": 200}]
    assert deploy_state.probe_drift(probes, asker=lambda url, path, timeout: answers[url]) == [
        "GET / on /run/blog/blog.sock: ConnectionRefusedError: 111, wants 200"]
    assert deploy_state.probe_drift(probes[:1], asker=lambda url, path, timeout: (500, None, "")) == [
        "GET /health on /run/shop/shop.sock: answered 500, wants 200"]


def test_a_record_is_root_only_and_written_again_only_when_it_says_something_else(tmp_path):
    folder = str(tmp_path / "runs")
    record = {"name": "shop", "inputs": "i1", "fleet": {}, "watch": {}, "state": {"files": {}}, "recorded_at": "t1"}
    assert deploy_state.write_record(Module(check_mode=True), folder, "shop", record)
    assert not os.path.exists(folder)
    assert deploy_state.write_record(Module(), folder, "shop", record)
    assert stat.S_IMODE(os.stat(os.path.join(folder, "shop.json")).st_mode) == 0o600
    assert not deploy_state.write_record(Module(), folder, "shop", dict(record, recorded_at="t2"))
    assert deploy_state.write_record(Module(), folder, "shop", dict(record, inputs="i2"))
    (tmp_path / "runs" / "torn.json").write_text('{"name": "bl')
    assert [r["inputs"] for r in deploy_state.read_records(folder)] == ["i2"]


class IpModule:
    """`ip -o addr show scope global` as the module runs it, or no `ip`."""

    def __init__(self, out=None):
        self.out = out

    def get_bin_path(self, name):
        return "/usr/sbin/ip" if self.out is not None else None

    def run_command(self, argv):
        assert argv == ["/usr/sbin/ip", "-o", "addr", "show", "scope", "global"]
        return 0, self.out, ""


def test_the_addresses_a_host_connects_from_are_its_global_ones_each_once():
    out = ("2: eth0    inet 172.18.0.3/16 brd 172.18.255.255 scope global eth0\\       valid_lft forever\n"
           "2: eth0    inet6 2001:db8::3/64 scope global \\       valid_lft forever\n"
           "3: eth1    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth1\\       valid_lft forever\n"
           "3: eth1    inet 10.0.0.5/24 scope global secondary eth1\\       valid_lft forever\n")
    assert deploy_state.addresses(IpModule(out)) == ["10.0.0.5", "172.18.0.3", "2001:db8::3"]


def test_without_ip_the_host_names_address_counts_but_never_loopback(monkeypatch):
    monkeypatch.setattr(deploy_state.socket, "gethostbyname_ex", lambda name: (name, [], ["127.0.1.1", "192.0.2.7"]))
    assert deploy_state.addresses(IpModule()) == ["192.0.2.7"]
    monkeypatch.setattr(deploy_state.socket, "gethostbyname_ex", lambda name: (name, [], ["127.0.1.1"]))
    assert deploy_state.addresses(IpModule("")) == []


def test_a_record_of_the_same_inputs_comes_first_and_one_of_the_same_settings_only_without_it():
    blog = {"name": "blog", "inputs": "b1", "settings": "bs"}
    shop = {"name": "shop", "inputs": "s1", "settings": "ss"}
    assert deploy_state.found_record([blog, shop], "s1", "ss") == (shop, False)
    assert deploy_state.found_record([blog, shop], "s2", "ss") == (shop, True)
    assert deploy_state.found_record([blog, shop], "s2", "sx") == (None, False)
    # A record from before the settings digest matches by its inputs only.
    assert deploy_state.found_record([{"name": "shop", "inputs": "s1"}], "s2", None) == (None, False)
    assert deploy_state.found_record([{"name": "shop", "inputs": "s1"}], "s2", "") == (None, False)


def test_the_watch_by_role_is_compared_as_one():
    parts = {"app": {"files": ["/etc/shop"], "units": ["shop@blue.service"], "capacity": True},
             "caddy": {"files": ["/etc/caddy/Caddyfile"], "units": ["caddy.service"], "capacity": False},
             "firewall": None}
    assert deploy_state.merged(parts) == {"files": ["/etc/shop", "/etc/caddy/Caddyfile"],
                                          "units": ["shop@blue.service", "caddy.service"], "capacity": True}
    assert deploy_state.merged({}) == {}
