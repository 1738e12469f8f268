# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import os

from ansible_collections.asgi.deploy.plugins.modules.app_status import deployed, history, uptime_s


def test_the_last_lines_and_torn_ones_skipped(tmp_path):
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps({"to": "r%d" % i}) for i in range(8)) + '\n{"to": "r8"')
    records, last = history(str(path), 3)
    assert len(records) == 8 and [r["to"] for r in last] == ["r5", "r6", "r7"]
    assert history(str(tmp_path / "none.jsonl"), 3) == ([], [])


def test_deployed_by_the_last_good_run_that_put_current_in_place():
    records = [{"result": "ok", "to": "r2", "time": "t1", "by": "ops@a", "playbook": "site.yml", "action": "deploy"},
               {"result": "ok", "to": "r3", "time": "t2", "by": "ops@a", "playbook": "site.yml", "action": "deploy"},
               {"result": "ok", "to": "r2", "time": "t3", "by": "dev@b", "playbook": "rollback.yml",
                "action": "rollback"},
               {"result": "failed", "to": "r4", "time": "t4", "by": "ops@a", "playbook": "site.yml", "action": "deploy"}]
    assert deployed(records, "r2") == {"time": "t3", "by": "dev@b", "playbook": "rollback.yml", "action": "rollback"}
    assert deployed(records, "r4") is None


def test_uptime_of_this_process():
    assert 0 <= uptime_s(os.getpid()) < 3600
    assert uptime_s(2 ** 22 + 1) is None
