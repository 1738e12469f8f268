# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.asgi.deploy.plugins.filter.app_layout import app_layout
from ansible_collections.asgi.deploy.plugins.filter.app_plan import FilterModule, app_plan, switch_plan

SETTINGS = {"name": "shop", "workers": "auto", "per_worker_mb": 128, "reserve_mb": 256, "utilization": 0.75,
            "workers_per_cpu": 2, "max_workers": 0, "supervisor_mb": 64, "allow_overcommit": False, "tcp_port": 0,
            "tcp_address": "0.0.0.0", "workdir": "", "migrate_workdir": "", "address": "app1"}


def host(memory_mb=1024, cpus=2.0, live="blue", running=True, others=None, current="abc", live_workers=4):
    return {"capacity": {"memory_mb": memory_mb, "cpus": cpus}, "others_reserved_mb": others or {},
            "slots": {"live": live, "live_running": running, "current": current, "live_workers": live_workers}}


def plan(memory_mb=1024, release="def", live_workers=None, **settings):
    sized = app_plan(host(memory_mb), dict(SETTINGS, **settings), release=release)
    # The serving release runs what this plan would run, unless the test says otherwise.
    serving = sized["workers"] if live_workers is None else live_workers
    return app_plan(host(memory_mb, live_workers=0 if serving == 1 else serving), dict(SETTINGS, **settings),
                    release=release)


def test_registered_under_its_name():
    assert FilterModule().filters()["app_plan"] is app_plan


def test_the_layout_is_the_layout_filters():
    result = plan()
    layout = app_layout("shop")
    assert {key: result[key] for key in layout} == layout
    assert result["slots"]["green"] == {
        "name": "green", "unit": "shop@green", "socket_unit": "shop@green.socket",
        "service_unit": "shop@green.service", "socket": "/run/shop/green.sock", "env_file": "/etc/shop/green.env",
        "credentials": "/etc/shop/credentials/green",
        "workers_file": "/run/shop/green.workers"}
    assert (result["live"], result["next"], result["socket"]) == ("blue", "green", "/run/shop/shop.sock")


def test_release_folders():
    assert plan(workdir="src", migrate_workdir="")["release"] == {
        "id": "def", "dir": "/opt/shop/releases/def", "workdir": "/opt/shop/releases/def/app/src",
        "migrate_workdir": "/opt/shop/releases/def/app"}
    assert plan(release="")["release"]["dir"] == ""


@pytest.mark.parametrize("memory_mb, workers, mode, serving, start", [
    # 2 GiB, 2 CPUs: 4 workers (CPU cap), the budget holds 10: both at full size
    (2048, 4, "overlap", 0, 4),
    # 1 GiB: 4 workers fill the budget of 4; the serving one keeps 2, the new one starts with 2
    (1024, 4, "shrink", 2, 2),
    # 960 MiB (a "1 GiB" VM's MemTotal): 3 workers, budget 3: 1 beside 2
    (960, 3, "shrink", 1, 2),
    # 768 MiB: the budget holds 2 and no third; sized 1, so 1 beside 1
    (768, 1, "overlap", 0, 1),
    # 512 MiB: one worker, no room for a second: stop first
    (512, 1, "stop_first", 0, 1),
])
def test_the_switch_fits_the_budget_the_workers_were_sized_from(memory_mb, workers, mode, serving, start):
    result = plan(memory_mb)
    assert (result["workers"], result["switch"]["mode"], result["switch"]["serving_workers"],
            result["switch"]["start_workers"]) == (workers, mode, serving, start)
    assert result["memory_max_mb"] == workers * 128 + 64
    if mode != "stop_first":
        used = (result["switch"]["serving_workers"] or workers) + result["switch"]["start_workers"]
        assert used <= result["budget_workers"]


@pytest.mark.parametrize("running, workers, budget", [(r, n, b) for r in range(1, 9) for n in range(1, 9)
                                                      for b in range(max(n, r), 20)])
def test_every_switch_stays_in_the_budget_and_can_grow(running, workers, budget):
    switch = switch_plan("blue", running, workers, budget)
    serving = switch["serving_workers"] or running
    if switch["mode"] == "overlap":
        assert running + switch["start_workers"] <= budget and switch["start_workers"] >= min(workers, 2)
    elif switch["mode"] == "shrink":
        assert 1 <= serving <= running
        assert serving + switch["start_workers"] <= budget
        # Only uvicorn's supervisor gives workers back: a release running one may not shrink.
        assert serving == running or running >= 2
        # A new release that must grow needs uvicorn's supervisor: two workers or more.
        assert switch["start_workers"] == workers or switch["start_workers"] >= 2
    else:
        assert switch["mode"] == "stop_first"
        # Only where not even one worker each fits beside a release that must be able to grow.
        assert budget < 2 or (workers >= 2 and budget < 3)


def test_a_single_process_cannot_give_workers_back():
    # The serving release runs one uvicorn process (sized on a smaller host); the
    # new one, of 4, starts with what is left beside it, and grows.
    result = plan(1024, live_workers=1)
    assert (result["switch"]["mode"], result["switch"]["serving_workers"], result["switch"]["start_workers"]) == (
        "shrink", 0, 3)


def test_a_first_deploy_or_a_stopped_slot_needs_no_room():
    assert app_plan(host(512, live=""), SETTINGS)["switch"]["mode"] == "first"
    assert app_plan(host(512, running=False), SETTINGS)["switch"]["mode"] == "first"


def test_other_apps_come_off_the_budget():
    result = app_plan(host(2048, others={"notes": 576, "idle": 0}), SETTINGS)
    # (1536 - 576 - 256) / 128 = 5, capped at 4 by the CPUs; 4 + 4 > 5
    assert (result["workers"], result["budget_workers"], result["switch"]["mode"]) == (4, 5, "shrink")


def test_explicit_workers_are_checked_against_the_host():
    assert plan(workers=2)["workers"] == 2
    with pytest.raises(AnsibleFilterError) as error:
        plan(workers=500)
    assert "app_workers=500 do not fit: the host has 1024 MiB" in str(error.value)
    assert "app_allow_overcommit" in str(error.value)
    assert plan(workers=500, allow_overcommit=True)["workers"] == 500


def test_not_even_one_worker_names_the_variables():
    with pytest.raises(AnsibleFilterError, match="do not fit.*per_worker_mb"):
        plan(per_worker_mb=65536)


def test_upstreams_unix_and_tcp():
    assert plan()["upstream"] == {"local": "unix//run/shop/shop.sock", "remote": ""}
    tcp = plan(tcp_port=8000)
    assert tcp["upstream"] == {"local": "127.0.0.1:8000", "remote": "app1:8000"}
    assert tcp["tcp"] == {"port": 8000, "listen": "0.0.0.0:8000", "local": "127.0.0.1:8000"}
    bound = plan(tcp_port=8000, tcp_address="10.0.0.5")
    assert bound["upstream"] == {"local": "10.0.0.5:8000", "remote": "10.0.0.5:8000"}


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="app_host"):
        app_plan({"slots": {}}, SETTINGS)
    with pytest.raises(AnsibleFilterError, match="missing.*tcp_port"):
        app_plan(host(), {key: value for key, value in SETTINGS.items() if key != "tcp_port"})


def test_layout_refuses_a_name_that_is_not_one():
    with pytest.raises(AnsibleFilterError, match="app name"):
        app_layout("My App")
    assert app_layout("shop")["slot_units"] == ["shop@blue.socket", "shop@green.socket",
                                                "shop@blue.service", "shop@green.service"]
