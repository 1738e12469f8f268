# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's side of a run: which process it is, and whether one still runs."""

from __future__ import annotations

import multiprocessing
import os
import socket

from ansible_collections.asgi.deploy.plugins.module_utils.serving import started_after_boot


def playbook_process():
    """The ansible-playbook process: tasks run in workers it forked."""
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None else os.getpid()


def boot_id(proc="/proc"):
    """This boot of the controller's kernel, or None."""
    try:
        with open(os.path.join(proc, "sys", "kernel", "random", "boot_id")) as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def started(pid, proc="/proc"):
    """The start time of a process in seconds since the epoch, or None."""
    since_boot = started_after_boot(pid, proc)
    try:
        with open(os.path.join(proc, "stat")) as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith("btime "))
    except (OSError, IndexError, StopIteration, ValueError):
        return None
    return None if since_boot is None else boot + int(since_boot)


def still_runs(run, proc="/proc"):
    """Whether the run a lock names still runs: True or False when this
    controller can tell (the run started here), None when it cannot."""
    if run.get("host") != socket.gethostname() or not isinstance(run.get("pid"), int):
        return None
    # A pid reused by a later process is not the run. Compared by the boot
    # and the seconds from boot to the start where the run recorded them: a
    # wall clock set back or forward moves the epoch time of boot, and so
    # `started`.
    since_boot = started_after_boot(run["pid"], proc)
    if since_boot is not None and run.get("since_boot") is not None:
        return run.get("boot") == boot_id(proc) and run["since_boot"] == since_boot
    since = started(run["pid"], proc)
    if since is None:
        return False if os.path.isdir(proc) else None
    return run.get("started") in (None, since)
