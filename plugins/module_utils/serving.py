# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What serves an app on a host: its slot's unit, uvicorn's processes and
their memory, and an HTTP answer over a unix socket or TCP."""

from __future__ import annotations

import http.client
import os
import socket

from ansible_collections.asgi.deploy.plugins.module_utils.capacity import read_text


def rss_mb(pid):
    """Resident memory of a process in MiB, or None if it is gone."""
    status = read_text("/proc/%d/status" % pid)
    for line in (status or "").splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024.0, 1)
    return None


def processes():
    """(pid, ppid, name) of every process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = read_text("/proc/%s/stat" % entry)
        if not stat:
            continue
        # The name is in parentheses and may itself hold spaces or parentheses.
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        found.append((int(entry), ppid, name))
    return found


def started_after_boot(pid, proc="/proc"):
    """Seconds from boot to a process's start (its stat's starttime), or None."""
    stat = read_text(os.path.join(proc, str(pid), "stat"))
    try:
        # The command name, in parentheses, may hold spaces.
        return int(stat.rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
    except (AttributeError, IndexError, ValueError):
        return None


def release_of(link):
    """The release a link (current, previous) names, or an empty string."""
    try:
        return os.path.basename(os.readlink(link)) if link else ""
    except OSError:
        return ""


def serving_unit(app_name, run_dir="/run"):
    """The service of the slot the app's stable socket path links to."""
    link = os.path.join(run_dir, app_name, app_name + ".sock")
    if os.path.islink(link):
        slot = os.path.basename(os.readlink(link))
        if slot.endswith(".sock"):
            return "%s@%s.service" % (app_name, slot[:-len(".sock")])
    return app_name + ".service"


def workers_of(main_pid, table):
    """uvicorn's workers under its main process, by pid, with their memory.
    uvicorn's multiprocessing resource tracker is a child too, but tiny."""
    workers = [{"pid": pid, "rss_mb": rss_mb(pid)} for pid, ppid, name in table
               if ppid == main_pid and name.startswith("python")]
    return sorted((w for w in workers if w["rss_mb"] is not None and w["rss_mb"] >= 15), key=lambda w: w["pid"])


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def ask(target, url_path, timeout):
    """Return (status, error) of one GET to a unix socket path or host:port."""
    if target.startswith("/"):
        connection = UnixHTTPConnection(target, timeout)
    else:
        host, _sep, port = target.rpartition(":")
        connection = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=timeout)
    try:
        connection.request("GET", url_path, headers={"Host": "localhost"})
        response = connection.getresponse()
        response.read()
        return response.status, None
    except (OSError, http.client.HTTPException) as error:
        return None, "%s: %s" % (type(error).__name__, error)
    finally:
        connection.close()
