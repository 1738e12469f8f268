# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.asgi.deploy.plugins.filter.utilization_advice import utilization_advice


def usage(workers, memory=1024, cpus=2, main=25, web=40, busy=10):
    return {"capacity": {"memory_mb": memory, "cpus": cpus}, "main": {"pid": 1, "rss_mb": main},
            "workers": [{"pid": i + 2, "rss_mb": rss} for i, rss in enumerate(workers)],
            "web_server_rss_mb": web, "load": [0, 0, 0], "cpu_busy_percent": busy}


def test_figures():
    report = utilization_advice(usage([60, 58, 62, 59]))
    assert report["workers"] == 4
    assert report["worker_rss_mb"] == 60
    assert report["used_mb"] == 25 + 239 + 40
    assert report["used_percent"] == round(100 * 304 / 1024, 1)


def test_worker_over_budget_says_raise_the_budget():
    report = utilization_advice(usage([60, 140]), per_worker_mb=128)
    assert report["recommendation"].startswith("raise app_per_worker_mb to 176")


def test_above_the_band_says_add_a_host():
    report = utilization_advice(usage([100] * 9, memory=1000, cpus=8))
    assert report["status"] == "above" and report["recommendation"].startswith("add a host")


def test_busy_cpus_say_add_a_host():
    report = utilization_advice(usage([100] * 6, memory=1000, cpus=8, busy=97))
    assert report["status"] == "within" and "CPUs are 97" in report["recommendation"]


def test_idle_memory_with_room_for_workers_says_add_workers():
    report = utilization_advice(usage([60, 60], memory=4096, cpus=4))
    assert report["status"] == "below" and report["recommendation"].startswith("add workers")


def test_idle_memory_capped_by_cpus_says_keep():
    report = utilization_advice(usage([60] * 4, memory=4096, cpus=2))
    assert report["recommendation"].startswith("keep: the CPUs cap the workers at 4")


def test_within_the_band_says_keep():
    report = utilization_advice(usage([100] * 6, memory=1000, cpus=8))
    assert report["status"] == "within" and report["recommendation"] == "keep"


@pytest.mark.parametrize("bad", [{}, {"capacity": {}}, usage([])])
def test_bad_input(bad):
    with pytest.raises(AnsibleFilterError):
        utilization_advice(bad)
