# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.asgi.deploy.plugins.filter.utilization_advice import utilization_advice


def app(workers, main=25, per_worker_mb=128, workers_per_cpu=2, sized="auto"):
    return {"unit": "x@blue.service", "main": {"pid": 1, "rss_mb": main},
            "workers": [{"pid": i + 2, "rss_mb": rss} for i, rss in enumerate(workers)],
            "sized": sized, "per_worker_mb": per_worker_mb, "workers_per_cpu": workers_per_cpu}


def usage(workers=None, memory=1024, cpus=2, web=40, busy=10, apps=None):
    return {"capacity": {"memory_mb": memory, "cpus": cpus}, "apps": apps or {"shop": app(workers)},
            "web_server_rss_mb": web, "load": [0, 0, 0], "cpu_busy_percent": busy}


def test_figures():
    report = utilization_advice(usage([60, 58, 62, 59]))
    assert report["apps"] == [{"name": "shop", "workers": 4, "worker_rss_mb": 60, "per_worker_mb": 128,
                               "workers_per_cpu": 2, "sized": "auto", "used_mb": 25 + 239, "recommendation": "keep"}]
    assert report["used_mb"] == 25 + 239 + 40
    assert report["used_percent"] == round(100 * 304 / 1024, 1)


def test_every_app_counts_toward_the_host():
    report = utilization_advice(usage(apps={"api": app([100] * 4), "admin": app([70], main=20, per_worker_mb=64)},
                                      memory=1000))
    assert [row["name"] for row in report["apps"]] == ["admin", "api"]
    assert report["used_mb"] == 90 + 425 + 40
    # admin's worker is over its own budget; api's is not.
    assert report["apps"][0]["recommendation"].startswith("raise app_per_worker_mb to 96")
    assert report["apps"][1]["recommendation"] == "keep"
    assert report["status"] == "within"
    assert report["lines"] == [
        "app              workers  worker RSS   budget   used       recommendation",
        "admin            1        70.0 MiB     64 MiB   90 MiB     " + report["apps"][0]["recommendation"],
        "api              4        100.0 MiB    128 MiB  425 MiB    keep",
        "host: 555 / 1000 MiB used (56 %), within the band; CPU 10 % busy",
        "recommendation: keep"]


def test_a_single_worker_is_the_main_process():
    # uvicorn --workers 1 has no supervisor: the main process serves.
    report = utilization_advice(usage([], web=0, apps={"one": app([], main=70)}))
    assert report["apps"][0]["workers"] == 1 and report["apps"][0]["worker_rss_mb"] == 70
    assert report["used_mb"] == 70


def test_above_the_band_says_add_a_host():
    report = utilization_advice(usage([100] * 9, memory=1000, cpus=8))
    assert report["status"] == "above" and report["recommendation"].startswith("add a host")


def test_busy_cpus_say_add_a_host():
    report = utilization_advice(usage([100] * 6, memory=1000, cpus=8, busy=97))
    assert report["status"] == "within" and "CPUs are 97" in report["recommendation"]


def test_idle_memory_with_room_for_workers_names_the_app():
    report = utilization_advice(usage(apps={"api": app([60] * 4), "admin": app([60, 60])}, memory=4096, cpus=2))
    assert report["status"] == "below" and report["recommendation"].startswith("add workers to admin")


def test_an_app_with_a_fixed_count_is_told_to_raise_it():
    report = utilization_advice(usage(apps={"one": app([], main=60, sized="1")}, memory=4096))
    assert report["recommendation"] == "add workers to one: raise its app_workers (1) or set it to auto"


def test_idle_memory_capped_by_cpus_says_keep():
    report = utilization_advice(usage([60] * 4, memory=4096, cpus=2))
    assert report["recommendation"].startswith("keep: the CPUs cap the workers")


def test_within_the_band_says_keep():
    report = utilization_advice(usage([100] * 6, memory=1000, cpus=8))
    assert report["status"] == "within" and report["recommendation"] == "keep"


@pytest.mark.parametrize("bad", [{}, {"capacity": {}}, usage(apps={"x": app([], main=None)}), usage(apps={"x": {}}),
                                 {"capacity": {"memory_mb": 1, "cpus": 1}, "apps": {}}])
def test_bad_input(bad):
    with pytest.raises(AnsibleFilterError):
        utilization_advice(bad)
