# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import math

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given, strategies as st

from ansible_collections.asgi.deploy.plugins.filter.uvicorn_workers import (
    FilterModule,
    uvicorn_workers,
)


def test_registered_under_its_name():
    assert FilterModule().filters()["uvicorn_workers"] is uvicorn_workers


@pytest.mark.parametrize("memory, kwargs, expected", [
    # floor((1024 * 0.75 - 256) / 128) = 4
    (1024, {}, 4),
    # floor((640 * 0.75 - 256) / 128) = 1
    (640, {}, 1),
    # floor((8192 * 0.75 - 256) / 128) = 46
    (8192, {}, 46),
    # CPU cap: 2 CPUs x 2 workers
    (8192, {"cpus": 2}, 4),
    (8192, {"cpus": 1.5, "workers_per_cpu": 3}, 4),
    (8192, {"max_workers": 7}, 7),
    # The CPU cap never drops below the minimum once the minimum fits
    (8192, {"cpus": 1, "workers_per_cpu": 1, "min_workers": 3}, 3),
    (2048, {"per_worker_mb": 256, "reserve_mb": 512, "utilization": 0.5}, 2),
    # Numeric strings, as Jinja may hand over
    ("1024", {"per_worker_mb": "128"}, 4),
])
def test_formula(memory, kwargs, expected):
    assert uvicorn_workers(memory, **kwargs) == expected


def test_too_small_says_what_it_has_needs_and_what_to_change():
    with pytest.raises(AnsibleFilterError) as error:
        uvicorn_workers(400)
    message = str(error.value)
    assert "400 MiB" in message          # what the host has
    assert "384 MiB" in message          # what the workers need: 256 + 128
    assert "per_worker_mb" in message and "reserve_mb" in message


def test_min_workers_that_do_not_fit_fail_rather_than_overcommit():
    with pytest.raises(AnsibleFilterError, match="3 worker"):
        uvicorn_workers(1024, min_workers=3, per_worker_mb=200)


@pytest.mark.parametrize("kwargs, option", [
    ({"per_worker_mb": 0}, "per_worker_mb"),
    ({"per_worker_mb": -5}, "per_worker_mb"),
    ({"per_worker_mb": "big"}, "per_worker_mb"),
    ({"per_worker_mb": True}, "per_worker_mb"),
    ({"reserve_mb": -1}, "reserve_mb"),
    ({"reserve_mb": [1]}, "reserve_mb"),
    ({"utilization": 0}, "utilization"),
    ({"utilization": 1.5}, "utilization"),
    ({"utilization": float("nan")}, "utilization"),
    ({"cpus": 0}, "cpus"),
    ({"cpus": False}, "cpus"),
    ({"workers_per_cpu": 0}, "workers_per_cpu"),
    ({"min_workers": 0}, "min_workers"),
    ({"min_workers": 1.5}, "min_workers"),
    ({"max_workers": 2, "min_workers": 3}, "max_workers"),
    ({"max_workers": "x"}, "max_workers"),
])
def test_bad_option_is_named(kwargs, option):
    with pytest.raises(AnsibleFilterError, match=option):
        uvicorn_workers(4096, **kwargs)


@pytest.mark.parametrize("memory", [None, "a lot", -1, 0, True, float("inf")])
def test_bad_input_is_named(memory):
    with pytest.raises(AnsibleFilterError, match="memory_mb"):
        uvicorn_workers(memory)


sizes = st.floats(min_value=1, max_value=4 * 1024 * 1024, allow_nan=False)
options = st.fixed_dictionaries({
    "per_worker_mb": st.floats(min_value=1, max_value=4096),
    "reserve_mb": st.floats(min_value=0, max_value=8192),
    "utilization": st.floats(min_value=0.01, max_value=1),
    "cpus": st.one_of(st.none(), st.floats(min_value=0.1, max_value=256)),
    "workers_per_cpu": st.floats(min_value=0.5, max_value=8),
    "min_workers": st.integers(min_value=1, max_value=8),
})


@given(memory=sizes, kwargs=options)
def test_never_overcommits(memory, kwargs):
    try:
        workers = uvicorn_workers(memory, **kwargs)
    except AnsibleFilterError as error:
        assert "do not fit" in str(error)
        return
    assert workers >= kwargs["min_workers"]
    used = kwargs["reserve_mb"] + workers * kwargs["per_worker_mb"]
    assert used <= memory * kwargs["utilization"] * (1 + 1e-9)


@given(memory=sizes, extra=st.floats(min_value=0, max_value=1024 * 1024), kwargs=options)
def test_more_memory_never_gives_fewer_workers(memory, extra, kwargs):
    try:
        smaller = uvicorn_workers(memory, **kwargs)
    except AnsibleFilterError:
        return
    assert uvicorn_workers(memory + extra, **kwargs) >= smaller


@given(memory=sizes, kwargs=options)
def test_cpu_cap_holds_above_the_minimum(memory, kwargs):
    try:
        workers = uvicorn_workers(memory, **kwargs)
    except AnsibleFilterError:
        return
    if kwargs["cpus"] is not None and workers > kwargs["min_workers"]:
        assert workers <= math.floor(kwargs["cpus"] * kwargs["workers_per_cpu"])


def test_other_apps_come_off_the_budget():
    assert uvicorn_workers(2048) == 10
    assert uvicorn_workers(2048, other_apps_mb={"api": 576}) == 5
    assert uvicorn_workers(2048, other_apps_mb={"api": 576, "admin": 320}) == 3
    assert uvicorn_workers(2048, other_apps_mb={}) == uvicorn_workers(2048)


def test_a_full_host_names_the_apps_that_fill_it():
    with pytest.raises(AnsibleFilterError) as error:
        uvicorn_workers(2048, other_apps_mb={"api": 576, "admin": 704})
    assert str(error.value) == (
        "uvicorn_workers: 1 worker(s) do not fit: the host has 2048 MiB, of which utilization=0.75 allows 1536 MiB; "
        "the other apps on the host reserve 1280 MiB of it (admin 704 MiB, api 576 MiB); reserve_mb=256 plus 1 x "
        "per_worker_mb=128 needs 384 MiB. Lower per_worker_mb or reserve_mb, raise utilization, give the other apps "
        "fewer workers (app_workers) or remove one, or give the host more memory.")


@pytest.mark.parametrize("others", [["api"], {"api": "lots"}, {"api": -1}])
def test_other_apps_must_be_a_map_of_sizes(others):
    with pytest.raises(AnsibleFilterError, match="other_apps_mb"):
        uvicorn_workers(2048, other_apps_mb=others)


@pytest.mark.parametrize("memory, kwargs, plain, switch", [
    # The budget holds 2 and no third: one worker, so two releases fit side by side.
    (768, {}, 2, 1),
    (853, {}, 2, 1),
    # A third fits: two stay two.
    (854, {}, 3, 3),
    (8192, {"cpus": 1}, 2, 2),
    (1024, {}, 4, 4),
    (512, {}, 1, 1),
])
def test_switch_leaves_room_for_two_releases(memory, kwargs, plain, switch):
    assert uvicorn_workers(memory, **kwargs) == plain
    assert uvicorn_workers(memory, switch=True, **kwargs) == switch
