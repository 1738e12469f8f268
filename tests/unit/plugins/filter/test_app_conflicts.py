# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.asgi.deploy.plugins.filter.app_conflicts import app_conflicts


def host(**changes):
    claims = {"users": {"root": 0, "www-data": 33, "example": 998}, "groups": {"root": 0, "example": 998, "example-web": 997},
              "listening": {"22": ["sshd"], "443": ["caddy"], "8000": ["systemd"]}, "asgi_units": {},
              "apps": {"example": {"user": "example", "groups": ["example", "example-web"], "tcp_port": 8000}}}
    claims.update(changes)
    return claims


def test_an_apps_own_names_and_port_pass_on_a_rerun():
    assert app_conflicts(host(), "example", "example-web", 8000) == []


def test_a_new_app_on_free_names_and_port_passes():
    assert app_conflicts(host(), "shop", "shop-web", 8001) == []


@pytest.mark.parametrize("name, expected", [
    ("root", "app_name 'root' is an existing user (id 0) that asgi.deploy did not create"),
    ("www-data", "app_name 'www-data' is an existing user (id 33)"),
    ("caddy", "app_name 'caddy' is Caddy's (the caddy role) account"),
    ("postgres", "app_name 'postgres' is PostgreSQL's (the postgresql role) account"),
])
def test_system_and_other_roles_accounts_are_refused(name, expected):
    problems = app_conflicts(host(), name, name + "-web")
    assert any(p.startswith(expected) for p in problems), problems


def test_a_socket_group_that_exists_is_refused():
    assert app_conflicts(host(), "shop", "root") == [
        "app_socket_group 'root' is an existing group (id 0) that asgi.deploy did not create for this app; "
        "deploying would take it over: choose another"]


def test_another_apps_names_and_port_are_refused():
    problems = app_conflicts(host(groups={"root": 0}, users={"root": 0}), "shop", "example", 8000)
    assert "app_socket_group 'example' is a name of app 'example', deployed on this host" in problems
    assert "app_tcp_port 8000 is the port of app 'example', deployed on this host" in problems


@pytest.mark.parametrize("port", [80, 443, 2019])
def test_caddys_ports_are_refused(port):
    assert "a port Caddy needs on an edge" in app_conflicts(host(), "example", "example-web", port)[0]


def test_a_port_something_else_listens_on_is_refused():
    assert app_conflicts(host(), "shop", "shop-web", 22) == [
        "app_tcp_port 22 is in use on this host by sshd; choose a free port"]


def test_a_deploy_from_before_claim_files_is_recognised_by_its_units():
    legacy = host(apps={}, asgi_units={"example": 8000})
    assert app_conflicts(legacy, "example", "example-web", 8000) == []
    assert app_conflicts(host(apps={}), "example", "example-web", 8000) != []


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="host_claims"):
        app_conflicts({"users": {}}, "a", "b")


def test_apps_share_their_socket_group():
    assert app_conflicts(host(), "shop", "example-web", 8001) == []
    claims = host(apps={"example": {"user": "example", "groups": ["example", "asgi-web"], "socket_group": "asgi-web"}},
                  groups={"root": 0, "example": 998, "asgi-web": 997})
    assert app_conflicts(claims, "shop", "asgi-web") == []
    assert app_conflicts(claims, "asgi-web", "shop-web") == [
        "app_name 'asgi-web' is an existing group (id 997) that asgi.deploy did not create for this app; "
        "deploying would take it over: choose another",
        "app_name 'asgi-web' is a name of app 'example', deployed on this host"]
