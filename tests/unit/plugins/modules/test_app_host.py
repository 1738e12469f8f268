# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os
import time

from ansible_collections.asgi.deploy.plugins.module_utils.layout import app_layout
from ansible_collections.asgi.deploy.plugins.modules import app_host


def show(**units):
    """systemctl show's blocks for units given as name=(load, active, enabled[, MemoryCurrent, MainPID])."""
    blocks = []
    for name, states in units.items():
        memory, pid = (states[3:] + ("[not set]", "0"))[:2]
        blocks.append("Id=%s\nLoadState=%s\nActiveState=%s\nUnitFileState=%s\nMemoryCurrent=%s\nMainPID=%s"
                      % ((name,) + states[:3] + (memory, pid)))
    return "\n\n".join(blocks)


UP = ("loaded", "active", "enabled")
DOWN = ("loaded", "inactive", "disabled")
LAYOUT = app_layout("shop")


def state(live, **units):
    return app_host.slot_state(LAYOUT, app_host.parse_show(show(**units)), live, {})


def test_show_is_read_per_unit():
    units = app_host.parse_show(show(**{"shop@blue.service": UP + (str(300 << 20), "4242")}))
    assert units == {"shop@blue.service": {"load": "loaded", "active": "active", "enabled": "enabled",
                                           "memory_mb": 300, "main_pid": 4242}}


def test_blue_serving_green_next():
    now = state("blue", **{"shop@blue.socket": UP, "shop@blue.service": UP + (str(200 << 20),),
                           "shop@green.socket": DOWN, "shop@green.service": DOWN})
    assert (now["live"], now["serving"], now["live_running"], now["live_memory_mb"], now["strays"],
            now["legacy"]) == ("blue", True, True, 200, [], False)


def test_a_stray_next_slot_and_a_serving_slot_that_is_not_whole():
    now = state("green", **{"shop@green.socket": UP, "shop@green.service": ("loaded", "active", "disabled"),
                            "shop@blue.socket": ("loaded", "active", "disabled"),
                            "shop@blue.service": ("loaded", "activating", "disabled")})
    assert not now["serving"] and now["live_running"]
    assert now["strays"] == ["shop@blue.socket", "shop@blue.service"]


def test_first_deploy_and_the_units_of_earlier_versions():
    now = state("", **{"shop.service": ("loaded", "active", "enabled"), "shop-tcp.socket": UP})
    assert (now["live"], now["serving"], now["live_running"], now["legacy"], now["tcp_installed"],
            now["tcp_serving"]) == ("", False, False, True, True, True)


def test_held_slots_and_finished_releases(tmp_path, monkeypatch):
    run = tmp_path / "run"
    run.mkdir()
    (run / "blue.workers").write_text("ASGI_DEPLOY_WORKERS=2\n")
    layout = {"slots": {slot: {"workers_file": str(run / ("%s.workers" % slot))} for slot in ("blue", "green")}}
    assert app_host.read_holds(layout) == {"blue": 2}
    releases = tmp_path / "releases"
    for name, age in (("old", 300), ("new", 0), ("half", 100)):
        (releases / name).mkdir(parents=True)
        if name != "half":
            (releases / name / app_host.COMPLETE).write_text(name)
        os.utime(str(releases / name), (time.time() - age, time.time() - age))
    assert app_host.finished_releases(str(releases)) == ["new", "old"]
    assert app_host.finished_releases(str(tmp_path / "none")) == []
    # Every folder, half-built ones too, newest first (the order cleanup.yml
    # keeps the newest by); a stray file is no release.
    (releases / "notes.txt").write_text("")
    assert app_host.release_dirs(str(releases)) == ["new", "half", "old"]
    assert app_host.release_dirs(str(tmp_path / "none")) == []


def test_managed_files_are_hashed_and_missing_ones_are_null(tmp_path):
    present = tmp_path / "a"
    present.write_text("x")
    assert app_host.digests([str(present), str(tmp_path / "b")]) == {
        str(present): "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", str(tmp_path / "b"): None}
    files = app_host.managed_files(LAYOUT)
    assert "/etc/systemd/system/shop@green.service" in files and "/etc/shop/blue.env" in files
    assert "/etc/systemd/system/shop-tcp.socket" in files and "/usr/local/bin/shop-run" in files


class Dpkg:
    """What missing_packages needs of AnsibleModule: dpkg-query's answer."""

    def __init__(self, out):
        self.out = out

    def get_bin_path(self, _name):
        return "/usr/bin/dpkg-query"

    def run_command(self, _argv):
        return 1, self.out, "dpkg-query: no packages found matching procps"


def test_packages_not_installed_are_missing():
    module = Dpkg("python3 installed\ntar installed\ngzip config-files\n")
    assert app_host.missing_packages(module, ["python3", "tar", "gzip", "procps"]) == ["gzip", "procps"]
    assert app_host.missing_packages(module, []) == []
