# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.asgi.deploy.plugins.filter.app_host_state import app_host_state


def show(**units):
    """systemctl show's blocks for units given as name=(load, active, enabled[, MemoryCurrent])."""
    return "\n\n".join("Id=%s\nLoadState=%s\nActiveState=%s\nUnitFileState=%s\nMemoryCurrent=%s"
                       % ((name,) + states[:3] + ((states[3:] or ("[not set]",))[0],))
                       for name, states in units.items())


UP = ("loaded", "active", "enabled")
DOWN = ("loaded", "inactive", "disabled")
MISSING = ("not-found", "inactive", "")


def state(live, current, **units):
    return app_host_state("live=%s\ncurrent=%s\n%s\n" % (live, current, show(**units)), "shop")


def test_blue_serving_green_next():
    now = state("/run/shop/blue.sock", "/opt/shop/releases/abc", **{
        "shop@blue.socket": UP, "shop@blue.service": UP, "shop@green.socket": DOWN, "shop@green.service": DOWN})
    assert (now["live"], now["next"], now["current"], now["serving"], now["strays"], now["legacy"]) == \
        ("blue", "green", "abc", True, [], False)
    assert now["units"]["shop@green.service"] == {
        "load": "loaded", "active": "inactive", "enabled": "disabled", "memory_mb": 0}


def test_green_serving_blue_next_and_a_stray_left_running():
    now = state("/run/shop/green.sock", "/opt/shop/releases/def", **{
        "shop@green.socket": UP, "shop@green.service": UP,
        "shop@blue.socket": ("loaded", "active", "disabled"), "shop@blue.service": ("loaded", "activating", "disabled")})
    assert (now["live"], now["next"], now["serving"]) == ("green", "blue", True)
    assert now["strays"] == ["shop@blue.socket", "shop@blue.service"]


def test_first_deploy_starts_in_blue():
    now = state("", "", **{"shop@blue.socket": MISSING, "shop@blue.service": MISSING})
    assert (now["live"], now["next"], now["current"], now["serving"], now["legacy"]) == ("", "blue", "", False, False)


def test_serving_slot_not_enabled_or_failed_is_not_whole():
    assert not state("/run/shop/blue.sock", "x", **{
        "shop@blue.socket": UP, "shop@blue.service": ("loaded", "active", "disabled")})["serving"]
    assert not state("/run/shop/blue.sock", "x", **{
        "shop@blue.socket": UP, "shop@blue.service": ("loaded", "failed", "enabled")})["serving"]


def test_a_host_of_the_single_slot_layout():
    now = state("", "/opt/shop/releases/abc", **{"shop.socket": UP, "shop.service": UP})
    assert (now["live"], now["next"], now["current"], now["legacy"]) == ("", "blue", "abc", True)


def test_a_link_to_something_else_is_no_slot():
    assert state("/run/shop/other.sock", "", **{"shop.socket": MISSING})["live"] == ""
    assert state("/tmp/x", "", **{"shop.socket": MISSING})["live"] == ""


@pytest.mark.parametrize("text", ["", "live=\n", "current=\nlive=\nno equals sign\n"])
def test_output_of_another_shape_is_refused(text):
    with pytest.raises(AnsibleFilterError):
        app_host_state(text, "shop")


def test_two_slots_only():
    with pytest.raises(AnsibleFilterError, match="two slots"):
        app_host_state("live=\ncurrent=\n", "shop", slots=["a"])


def test_the_tcp_front():
    assert (state("", "", **{"shop-tcp.socket": UP})["tcp_installed"],
            state("", "", **{"shop-tcp.socket": UP})["tcp_serving"]) == (True, True)
    stopped = state("", "", **{"shop-tcp.socket": ("loaded", "failed", "enabled")})
    assert (stopped["tcp_installed"], stopped["tcp_serving"]) == (True, False)
    assert not state("", "", **{"shop-tcp.socket": MISSING})["tcp_installed"]


def test_memory_the_serving_slot_uses():
    now = state("/run/shop/green.sock", "x", **{
        "shop@green.socket": UP, "shop@green.service": UP + (str(260 << 20),),
        "shop@blue.service": DOWN + (str(64 << 20),)})
    assert now["live_memory_mb"] == 260
    assert now["units"]["shop@blue.service"]["memory_mb"] == 64
    assert state("", "", **{"shop@blue.service": DOWN + (str(64 << 20),)})["live_memory_mb"] == 0
