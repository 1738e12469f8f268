# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""deploy_lock run as Ansible runs it (a process with its arguments file):
one run of many gets the lock, only its holder gives it back, breaking it
names the broken holder, and the history keeps one bounded line per run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

MODULE = "ansible_collections.asgi.deploy.plugins.modules.deploy_lock"


def run_of(pid, user="ops", host="laptop"):
    return {"id": "%s@%s:%d:1796000000" % (user, host, pid), "user": user, "host": host, "pid": pid,
            "playbook": "site.yml", "started": 1796000000}


def call(tmp_path, **args):
    args.setdefault("name", "shop")
    args.setdefault("path", str(tmp_path / "deploy"))
    path = tmp_path / ("args-%s.json" % args["run"]["pid"])
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    done = subprocess.run([sys.executable, "-m", MODULE, str(path)], capture_output=True, text=True, check=False,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    return json.loads(done.stdout)


def current_link(tmp_path, release):
    link = tmp_path / "current"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(tmp_path / "releases" / release)
    return str(link)


def test_of_runs_started_together_exactly_one_gets_the_lock(tmp_path):
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda pid: call(tmp_path, run=run_of(pid)), range(100, 108)))
    winners = [r for r in results if r["acquired"]]
    assert len(winners) == 1, results
    holder = json.loads((tmp_path / "deploy" / "lock.json").read_text())
    assert all(r["holder"]["id"] == holder["id"] for r in results if not r["acquired"])
    assert oct((tmp_path / "deploy" / "lock.json").stat().st_mode & 0o777) == "0o644"
    assert not [name for name in os.listdir(tmp_path / "deploy") if name.startswith(".lock-")]


def test_the_holder_takes_it_again_and_gives_it_back_alone(tmp_path):
    current = current_link(tmp_path, "r1")
    first = call(tmp_path, run=run_of(1), current=current)
    assert first["acquired"] and first["changed"]
    again = call(tmp_path, run=run_of(1), current=current)
    assert again["acquired"] and not again["changed"]
    other = call(tmp_path, run=run_of(2), state="unlocked")
    assert other["holder"]["pid"] == 1 and (tmp_path / "deploy" / "lock.json").exists()
    mine = call(tmp_path, run=run_of(1), state="unlocked")
    assert mine["changed"] and not (tmp_path / "deploy" / "lock.json").exists()
    assert not (tmp_path / "deploy" / "history.jsonl").exists()  # no result: no line


def test_breaking_names_the_run_it_broke(tmp_path):
    call(tmp_path, run=run_of(1))
    broke = call(tmp_path, run=run_of(2), break_lock=True)
    assert broke["acquired"] and broke["broken"]["pid"] == 1
    assert json.loads((tmp_path / "deploy" / "lock.json").read_text())["pid"] == 2
    # The run whose lock was broken writes no history and leaves the lock alone.
    late = call(tmp_path, run=run_of(1), state="unlocked", result="ok")
    assert late["record"] is None and late["holder"]["pid"] == 2
    assert not (tmp_path / "deploy" / "history.jsonl").exists()
    assert json.loads((tmp_path / "deploy" / "lock.json").read_text())["pid"] == 2


def test_a_history_line_per_run_with_what_it_did(tmp_path):
    current = current_link(tmp_path, "r1")
    call(tmp_path, run=run_of(1), current=current)
    current_link(tmp_path, "r2")
    ok = call(tmp_path, run=run_of(1), current=current, state="unlocked", result="ok")
    call(tmp_path, run=run_of(3, user="dev"), current=current, action="rollback")
    failed = call(tmp_path, run=run_of(3, user="dev"), current=current, action="rollback", state="unlocked",
                  result="failed", to="r1", step="web1: Wait for the health check")
    lines = [json.loads(line) for line in (tmp_path / "deploy" / "history.jsonl").read_text().splitlines()]
    assert lines == [ok["record"], failed["record"]]
    assert {k: lines[0][k] for k in ("action", "result", "by", "playbook", "from", "to", "step")} == {
        "action": "deploy", "result": "ok", "by": "ops@laptop", "playbook": "site.yml", "from": "r1", "to": "r2",
        "step": ""}
    assert isinstance(lines[0]["seconds"], int) and lines[0]["time"].endswith("Z")
    assert {k: lines[1][k] for k in ("action", "result", "by", "from", "to", "step")} == {
        "action": "rollback", "result": "failed", "by": "dev@laptop", "from": "r2", "to": "r1",
        "step": "web1: Wait for the health check"}


def test_the_history_is_bounded(tmp_path):
    for pid in range(1, 8):
        call(tmp_path, run=run_of(pid))
        call(tmp_path, run=run_of(pid), state="unlocked", result="ok", to="r%d" % pid, history_keep=3)
    lines = [json.loads(line) for line in (tmp_path / "deploy" / "history.jsonl").read_text().splitlines()]
    assert [line["to"] for line in lines] == ["r5", "r6", "r7"]


def test_check_mode_writes_nothing(tmp_path):
    result = call(tmp_path, run=run_of(1), _ansible_check_mode=True)
    assert result["acquired"] and not (tmp_path / "deploy").exists()


def test_a_run_without_an_id_is_refused(tmp_path):
    result = call(tmp_path, run={"user": "ops", "pid": 5})
    assert result["failed"] and "run needs an id" in result["msg"]
