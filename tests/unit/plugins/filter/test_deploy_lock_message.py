# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.asgi.deploy.plugins.filter.deploy_lock_message import age, deploy_lock_message
from ansible_collections.asgi.deploy.plugins.plugin_utils.runs import started

NOW = 1796070000


def holder(host, pid, since):
    return {"id": "ops@%s:%d:%s" % (host, pid, since), "user": "ops", "host": host, "pid": pid,
            "playbook": "site.yml", "started": since, "taken": NOW - 192, "action": "deploy", "from": "r1"}


def test_nothing_to_say_when_this_run_holds_it_everywhere():
    assert deploy_lock_message({"web1": {"acquired": True}, "web2": {"acquired": True}}, name="shop") == ""


def test_a_run_still_going_on_this_controller():
    me = holder(socket.gethostname(), os.getpid(), started(os.getpid()))
    text = deploy_lock_message({"web1": {"acquired": False, "holder": me, "now": NOW},
                                "web2": {"acquired": False, "holder": me, "now": NOW},
                                "web3": {"acquired": True}}, name="shop")
    assert text.startswith("App 'shop' is locked by another run on web1, web2: ops@%s, pid %d, playbook site.yml"
                           % (socket.gethostname(), os.getpid()))
    assert "took the lock 3 min 12 s ago for a deploy from release r1" in text
    assert "still running on this controller" in text and text.endswith("Nothing was changed.")
    assert "app_break_lock" not in text


def test_a_killed_run_is_called_stale_with_the_variable_that_breaks_it():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    text = deploy_lock_message({"web1": {"acquired": False, "holder": holder(socket.gethostname(), child.pid, 1),
                                         "now": NOW}}, name="shop")
    assert "no longer running" in text and "stale" in text and "-e app_break_lock=true" in text


def test_a_run_from_another_controller_cannot_be_judged():
    text = deploy_lock_message({"web1": {"acquired": False, "holder": holder("laptop.example", 1, 1), "now": NOW}},
                               name="shop")
    assert "another controller" in text and "-e app_break_lock=true" in text


def test_ages():
    assert [age(s) for s in (5, 192, 7500, 190000)] == ["5 s", "3 min 12 s", "2 h 5 min", "2 d 4 h"]


def test_a_result_naming_no_holder_is_an_error():
    with pytest.raises(AnsibleFilterError, match="web1 did not take the lock"):
        deploy_lock_message({"web1": {"acquired": False, "msg": "Permission denied"}}, name="shop")
    with pytest.raises(AnsibleFilterError):
        deploy_lock_message([], name="shop")
