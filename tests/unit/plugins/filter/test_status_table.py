# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import time

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.asgi.deploy.plugins.filter.status_table import status_table

RECORD = {"time": "2026-11-30T20:14:03Z", "action": "deploy", "result": "ok", "by": "ops@laptop",
          "playbook": "site.yml", "from": "r1", "to": "r2", "seconds": 41, "step": ""}
FAILED = dict(RECORD, result="failed", to="r3", seconds=75, step="web1: Wait for the health check")
SERVING = {"current": "r2", "previous": "r1", "deployed": {"time": "2026-11-30T20:14:03Z", "by": "ops@laptop"},
           "unit": "shop@green.service", "active": "active", "uptime_s": 7300, "restarts": 1,
           "main": {"pid": 10, "rss_mb": 24.0}, "workers": [{"pid": 11, "rss_mb": 61.5}, {"pid": 12, "rss_mb": 60.9}],
           "health": {"status": 200, "error": None, "ms": 3}, "lock": None, "history": [RECORD, FAILED]}
STOPPED = dict(SERVING, main=None, workers=[], active="failed", uptime_s=None, deployed=None, previous="",
               health={"status": None, "error": "ConnectionRefusedError: [Errno 111]", "ms": 1},
               lock={"user": "dev", "host": "ci", "pid": 7, "playbook": "rollback.yml", "age_s": 130}, history=[])


def test_a_row_per_host_with_every_field():
    lines = status_table({"web2": STOPPED, "web1": SERVING}, name="shop")
    assert lines[0] == "App shop"
    header, web1, web2 = lines[1:4]
    for column in ("host", "current", "deployed", "previous", "workers (RSS MiB)", "uptime", "restarts", "health",
                   "lock"):
        assert column in header
    for cell in ("web1", "r2", "2026-11-30T20:14:03Z by ops@laptop", "r1", "2: 61.5 60.9", "2 h", "1", "200 in 3 ms",
                 "free"):
        assert cell in web1, cell
    for cell in ("(not in the history)", "stopped (failed)", "no answer: ConnectionRefusedError",
                 "held by dev@ci pid 7 (rollback.yml, 2 min)"):
        assert cell in web2, cell
    # Columns line up.
    assert header.index("previous") == web1.index(" r1 ") + 1


def test_packages_as_recorded_changed_by_hand_or_not_told():
    assert "as recorded" in status_table({"web1": dict(SERVING, packages=[])}, name="shop")[2]
    changed = status_table({"web1": dict(SERVING, packages=["- idna==3.7", "+ idna==3.10"])}, name="shop")
    assert "changed by hand: - idna==3.7, + idna==3.10" in changed[2]
    header, row = status_table({"web1": SERVING}, name="shop")[1:3]
    assert row[header.index("packages"):].startswith("- ")


def test_a_single_worker_serves_from_the_main_process():
    assert "1: 24.0" in status_table({"web1": dict(SERVING, workers=[])}, name="shop")[2]


def test_certificates_by_edge_and_domain():
    lines = status_table({"web1": SERVING}, name="shop", certificates={"edge1": {
        "shop.example": {"not_after": 1803993600, "days_left": 89, "issuer": "CN=R11", "error": None},
        "internal.test": {"not_after": int(time.time()) + 11 * 3600 + 60, "days_left": 0, "issuer": "CN=Caddy",
                          "error": None},
        "*.shop.example": {"not_after": None, "days_left": None, "issuer": None, "error": "a wildcard"}}})
    days = (1803993600 - int(time.time())) // 86400
    assert any(line.startswith("edge1") and "shop.example" in line
               and "expires 2027-03-02, in %d days, issuer CN=R11" % days in line for line in lines), lines
    assert any("internal.test" in line and ", in 11 h, issuer CN=Caddy" in line for line in lines), lines
    assert any("*.shop.example" in line and "not read: a wildcard" in line for line in lines)


def test_the_last_history_lines_of_each_host():
    lines = status_table({"web1": SERVING, "web2": STOPPED}, name="shop")
    at = lines.index("History on web1:")
    assert lines[at + 1] == "  2026-11-30T20:14:03Z deploy ok by ops@laptop (site.yml): r1 -> r2 in 41 s"
    assert lines[at + 2].endswith("r1 -> r3 in 1 min; failed at web1: Wait for the health check")
    assert "History on web2: (none)" in lines


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="app_status"):
        status_table({"web1": None}, name="shop")
