# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from ansible_collections.asgi.deploy.plugins.module_utils.serving import started_after_boot
from ansible_collections.asgi.deploy.plugins.plugin_utils.runs import boot_id, started, still_runs


def test_the_start_time_of_a_process():
    assert abs(started(os.getpid()) - time.time()) < 600
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert started(os.getpid()) <= started(child.pid) <= time.time() + 1
    finally:
        child.kill()
        child.wait()
    assert started(child.pid) is None


def test_a_run_here_is_known_alive_or_gone_and_one_elsewhere_is_unknown():
    here = socket.gethostname()
    assert still_runs({"host": here, "pid": os.getpid(), "started": started(os.getpid())}) is True
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert still_runs({"host": here, "pid": child.pid, "started": 1}) is False
    # The pid of the run, now another process's: that is not the run.
    assert still_runs({"host": here, "pid": os.getpid(), "started": started(os.getpid()) - 3600}) is False
    assert still_runs({"host": "elsewhere.example", "pid": os.getpid(), "started": 1}) is None


def test_a_run_is_known_by_its_boot_and_ticks_whatever_the_wall_clock_did():
    here, pid = socket.gethostname(), os.getpid()
    run = {"host": here, "pid": pid, "boot": boot_id(), "since_boot": started_after_boot(pid),
           # The epoch time of its start, as read before the clock was set back.
           "started": started(pid) + 1}
    assert run["boot"] and still_runs(run) is True
    # The same pid started later, or in another boot: another process.
    assert still_runs(dict(run, since_boot=run["since_boot"] + 0.5)) is False
    assert still_runs(dict(run, boot="00000000-0000-0000-0000-000000000000")) is False
