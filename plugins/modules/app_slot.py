#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_slot
short_description: Start a release in an app's idle slot, switch traffic to it, or put the host back
version_added: 0.6.0
description:
  - An app of this collection runs in one of two slots, each a systemd socket
    and service (C(<app>@blue), C(<app>@green)); the stable socket path
    C(/run/<app>/<app>.sock), which the proxy dials, links to the serving
    slot's socket. This module moves a host from one slot to the other in
    three steps, each one call, each leaving the host serving.
  - O(state=started) starts O(slot) beside the serving slot O(live), on its
    own socket where no user request reaches it, and waits until it answers
    O(health_path) and keeps answering with the same main process for
    O(health_stable) seconds. Where two releases at full size do not fit in
    memory, the serving slot first gives back workers (uvicorn's supervisor
    retires one per C(SIGTTOU), after its requests finish) down to
    O(serving_workers), each while new requests wait on the hold socket
    described below, and the new slot starts with O(start_workers). Where
    not even that fits (O(stop_first)), the stable path links to a hold
    socket that queues new connections unanswered, the serving slot stops,
    and the slot that serves next (the new one, or the old one again) takes
    the queue when it takes the stable path.
    A release that fails is stopped and the host put back as it served,
    before the module fails with the slot's last journal lines.
  - O(state=switched) renames the stable path onto O(slot)'s socket (new
    connections reach it at once), points C(current) at O(release_dir),
    checks an answer through the stable path, then stops O(live) once no
    connection is left on its socket, and brings O(slot) to O(workers)
    (C(SIGTTIN)). A failure before the old slot stops puts the path,
    C(current) and the old slot back.
  - O(state=undone) puts a host back as it served before O(state=started),
    with O(live) running, on the stable path and at its full count, and
    O(slot) stopped.
  - A slot that runs fewer workers than its unit says does so through a file
    in C(/run/<app>/<slot>.workers) that the unit reads
    (C(EnvironmentFile=-)), so a crash of that slot restarts it at the same
    count, and a reboot at the full count.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  app:
    description: The app's name.
    type: str
    required: true
  slot:
    description: The slot to start, switch to, or stop again.
    type: str
    required: true
    choices: [blue, green]
  live:
    description: The slot that serves now; empty when none does (a first deploy).
    type: str
    default: ""
  state:
    description: What to bring the host to.
    type: str
    choices: [started, switched, undone]
    required: true
  workers:
    description: The number of workers O(slot) runs once it serves (its unit's count).
    type: int
    default: 1
  start_workers:
    description: Workers O(slot) starts with, at most O(workers); V(0) is O(workers).
    type: int
    default: 0
  serving_workers:
    description: Workers O(live) keeps while O(slot) starts beside it; V(0) keeps them all.
    type: int
    default: 0
  stop_first:
    description: O(live) leaves the stable path and stops before O(slot) starts (not even one worker each fits).
    type: bool
    default: false
  socket_group:
    description: With O(stop_first) or O(serving_workers), the group that may connect to the app's sockets, for the hold socket.
    type: str
    default: ""
  sandbox:
    description: With O(stop_first) or O(serving_workers), the unit properties that sandbox the proxy which hands the held connections over.
    type: list
    elements: str
    default: []
  held_at:
    description: With O(state=switched), when O(stop_first) began to hold new requests (RV(held_at)); V(0) when it did not.
    type: float
    default: 0
  release_dir:
    description: With O(state=switched), the release C(current) points at; with O(bytecode), the release O(slot) runs.
    type: path
  previous_dir:
    description: With O(state=switched), the release that served before, for C(previous); empty for none.
    type: str
    default: ""
  bytecode:
    description:
      - With O(state=started), the release's source files (relative to O(release_dir)) its workers import, to compile
        to bytecode with the release's Python before O(slot) starts; the modules the import check loaded.
      - The release is read-only to the app, so each worker would otherwise compile them again at every start.
        Files outside O(release_dir) are left out.
    type: list
    elements: str
    default: []
  health_path:
    description: The path that answers O(health_status) when the app is healthy.
    type: str
    default: /
  health_status:
    description: The healthy status.
    type: int
    default: 200
  health_timeout:
    description: Seconds a starting slot has to answer.
    type: int
    default: 60
  health_stable:
    description: Seconds a starting slot must keep answering with the same main process; V(0) accepts the first answer.
    type: int
    default: 0
  graceful_timeout:
    description: Seconds to wait for the requests on a slot to finish before it stops (uvicorn's own graceful shutdown follows).
    type: int
    default: 20
extends_documentation_fragment:
  - asgi.deploy.attributes
"""

EXAMPLES = r"""
- name: Start the new release in green beside blue, blue giving back two of its four workers
  asgi.deploy.app_slot:
    app: shop
    slot: green
    live: blue
    state: started
    workers: 4
    start_workers: 2
    serving_workers: 2
    health_path: /health
    health_stable: 5
  register: started

- name: Move the traffic to green, stop blue, grow green to four workers
  asgi.deploy.app_slot:
    app: shop
    slot: green
    live: blue
    state: switched
    workers: 4
    release_dir: /opt/shop/releases/3f2a9c0d1e2b
    previous_dir: /opt/shop/releases/8c1d0e2f3a4b
    held_at: "{{ started.held_at }}"
"""

RETURN = r"""
main_pid:
  description: The main process of O(slot) once it answered (O(state=started)).
  returned: success
  type: int
  sample: 4242
workers:
  description: The workers O(slot) and O(live) run at the end (a single uvicorn process counts as one).
  returned: success
  type: dict
  sample: {slot: 2, live: 2}
held_at:
  description: When new requests began to wait on the hold socket (epoch seconds), V(0) when they did not (O(state=started)).
  returned: success
  type: float
  sample: 1764675600.5
waited:
  description: Seconds new requests waited on the hold socket for a release to take them (O(stop_first)), else V(0).
  returned: success
  type: float
  sample: 8.4
steps:
  description: What was done, in order, each with the seconds it took.
  returned: always
  type: list
  elements: str
  sample: ["blue gave back 2 workers (1.6 s)", "green started with 2 workers (0.4 s)", "green answered (3.1 s)"]
journal:
  description: The last 40 lines of O(slot)'s service journal, when it failed or was stopped again.
  returned: when O(slot) failed or was undone
  type: list
  elements: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.asgi.deploy.plugins.module_utils.layout import app_layout
from ansible_collections.asgi.deploy.plugins.module_utils.serving import (
    ask, drain, resize, wait_healthy, watch_stable, worker_pids)

WORKERS_VARIABLE = "ASGI_DEPLOY_WORKERS"
# Hands the held connections over, as the TCP front forwards its own.
PROXY = "/lib/systemd/systemd-socket-proxyd"
# A failed slot's journal is read once the unit has logged nothing new for
# JOURNAL_QUIET s (at most JOURNAL_SETTLE s): an app logs an error's
# traceback after its 500 has gone out, some 70 lines that journald takes
# in line by line, and a read in between would show the top of it, not the
# error.
JOURNAL_LINES = 40
JOURNAL_QUIET = 0.3
JOURNAL_SETTLE = 2.0


def configured_workers(environment, exec_start):
    """The worker count a slot's unit runs at full size, from `systemctl show`'s
    Environment= (this collection's units) or the --workers of ExecStart=
    (units of earlier versions); 0 when neither says."""
    for word in environment.split():
        key, _sep, value = word.partition("=")
        if key == WORKERS_VARIABLE and value.isdigit():
            return int(value)
    words = exec_start.replace(";", " ").split()
    for index, word in enumerate(words[:-1]):
        if word == "--workers" and words[index + 1].isdigit():
            return int(words[index + 1])
    return 1 if words else 0


class Host(object):
    """The app's units, links and files on this host, as one slot move sees them."""

    def __init__(self, module):
        self.module = module
        self.systemctl_bin = module.get_bin_path("systemctl", required=True)
        self.steps = []

    def systemctl(self, *args):
        return self.run([self.systemctl_bin] + list(args))

    def run(self, argv, data=None):
        rc, out, err = self.module.run_command(argv, data=data)
        return rc, out.strip(), err.strip()

    def show(self, unit, prop):
        return self.systemctl("show", "--property", prop, "--value", unit)[1]

    def main_pid(self, unit):
        value = self.show(unit, "MainPID")
        return int(value) if value.isdigit() else 0

    def active(self, unit):
        return self.systemctl("is-active", unit)[1] == "active"

    def journal(self, unit, sleep=time.sleep, clock=time.monotonic):
        """The unit's last JOURNAL_LINES lines, once it has stopped logging."""
        journalctl = self.module.get_bin_path("journalctl")
        if not journalctl:
            return []
        argv = [journalctl, "--unit", unit, "--lines", str(JOURNAL_LINES), "--no-pager", "--output", "cat",
                "--show-cursor"]
        deadline, seen = clock() + JOURNAL_SETTLE, None
        while True:
            _rc, out, _err = self.module.run_command(argv)
            lines = out.splitlines()
            cursor = lines.pop() if lines and lines[-1].startswith("-- cursor:") else ""
            if cursor == seen or clock() >= deadline:
                return lines
            seen = cursor
            sleep(JOURNAL_QUIET)

    def step(self, text, since):
        self.steps.append("%s (%.1f s)" % (text, time.monotonic() - since))


def write_file(path, text, mode=0o644):
    """Write a small file atomically; True when it changed."""
    try:
        with open(path) as handle:
            if handle.read() == text:
                return False
    except OSError:
        pass
    temporary = "%s.asgi-%d" % (path, os.getpid())
    with open(temporary, "w") as handle:
        handle.write(text)
    os.chmod(temporary, mode)
    os.rename(temporary, path)
    return True


def remove(path):
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def link(target, path):
    """Point the symlink at path to target by renaming a new link over it:
    atomic for whoever resolves the path meanwhile. True when it changed."""
    try:
        if os.readlink(path) == target:
            return False
    except OSError:
        pass
    temporary = "%s.asgi-%d" % (path, os.getpid())
    remove(temporary)
    os.symlink(target, temporary)
    os.rename(temporary, path)
    return True


def link_target(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def hold_command(layout, group, bound, sandbox):
    """The systemd-run command of the hold: a transient socket on which new
    connections queue, unanswered, and a service (started by the first of
    them) that waits until hold_target links to a slot's socket, then hands
    every connection to it, and leaves once none is left. After `bound`
    seconds it gives up and the socket, triggered again, fails and drops
    the queue, as the edge would have after its own hold. No $ or % in the
    script: systemd would read them as its own."""
    script = "until [ -S {target} ]; do sleep 0.1; done; exec {proxy} --exit-idle-time=200ms {target}".format(
        target=layout["hold_target"], proxy=PROXY)
    return (["systemd-run", "--quiet", "--collect", "--unit", layout["hold_unit"],
             "--description", "New requests to %s, held while no release serves (asgi.deploy)" % layout["name"]]
            + ["--socket-property=%s" % prop for prop in (
                "ListenStream=" + layout["hold_socket"], "SocketUser=root", "SocketGroup=" + group,
                "SocketMode=0660", "RemoveOnStop=yes", "Backlog=4096",
                "TriggerLimitIntervalSec=%ds" % (2 * bound), "TriggerLimitBurst=1")]
            + ["--property=%s" % prop
               for prop in ["RuntimeMaxSec=%ds" % bound, "DynamicUser=yes", "SupplementaryGroups=" + group] + sandbox]
            + ["/bin/sh", "-c", script])


def tmpfiles_line(layout, slot):
    """The tmpfiles.d entry that puts the stable path back at boot, linked to slot."""
    return ("# Managed by asgi.deploy: puts the stable socket path of %s back at boot,\n"
            "# linked to the serving slot.\nL+ %s - - - - %s\n"
            % (layout["name"], layout["socket"], layout["slots"][slot]["socket"]))


def compile_bytecode(run, release_dir, names):
    """Compile the release's source files `names` (relative to it) to
    bytecode beside them, with its own Python. Returns (files compiled, the
    problem or None)."""
    release = os.path.realpath(release_dir)
    files = [path for path in (os.path.realpath(os.path.join(release, name)) for name in names)
             if path.startswith(release + os.sep) and path.endswith(".py")]
    if not files:
        return 0, None
    rc, out, err = run([os.path.join(release, "venv", "bin", "python"), "-m", "compileall", "-q", "-i", "-"],
                       data="\n".join(files))
    said = [line.strip(" *.") for line in (out + "\n" + err).splitlines() if line.strip()]
    return len(files), (said or ["exit %d" % rc])[0] if rc != 0 else None


class SlotMove(object):
    def __init__(self, module, host):
        self.module, self.host, self.params = module, host, module.params
        self.layout = app_layout(self.params["app"])
        self.slot = self.layout["slots"][self.params["slot"]]
        live = self.params["live"]
        self.live = self.layout["slots"][live] if live else None

    def fail(self, problem, **extra):
        self.module.fail_json(msg=problem, steps=self.host.steps, **extra)

    def count(self, unit):
        pid = self.host.main_pid(unit)
        return pid, (len(worker_pids(pid)) if pid else 0)

    def workers(self):
        """The workers each slot runs now: a running single process counts as one."""
        counts = {}
        for key, paths in (("slot", self.slot), ("live", self.live)):
            pid, now = self.count(paths["service_unit"]) if paths else (0, 0)
            counts[key] = now or (1 if pid else 0)
        return counts

    def set_workers(self, paths, target, what):
        """Bring a running slot to `target` workers; returns the problem or
        None. A single uvicorn process runs one and cannot change."""
        since = time.monotonic()
        pid, now = self.count(paths["service_unit"])
        if not pid or now == target or (now == 0 and target == 1):
            return None
        before, after, problem = resize(pid, target, self.params["graceful_timeout"] + 30)
        self.host.step("%s %s from %d to %d workers" % (paths["name"], what, before, after), since)
        return problem

    def give_back(self, paths, target):
        """Retire the serving slot's workers down to `target` (held there, so
        that a restart meanwhile starts it at that count too), one at a time,
        each while new requests wait on the hold: a worker being retired
        closes every connection it has accepted and not yet read (uvicorn's
        shutdown), so none may reach the slot's socket meanwhile. Returns
        the problem or None."""
        since = time.monotonic()
        pid, now = self.count(paths["service_unit"])
        if not pid or now <= target:
            return None
        self.hold(paths, target)
        before, problem = now, None
        while now > target and not problem:
            self.hold_requests()
            # What connected just before the hold is accepted and answered first.
            time.sleep(0.1)
            drain(paths["socket"], self.params["graceful_timeout"])
            _before, now, problem = resize(pid, now - 1, self.params["graceful_timeout"] + 30)
            self.route(paths)
        self.host.step("%s went from %d to %d workers, new requests held at each retire" % (paths["name"], before, now),
                       since)
        return problem

    def hold(self, paths, count):
        """Make a slot's next start, and any restart, run `count` workers."""
        write_file(paths["workers_file"], "%s=%d\n" % (WORKERS_VARIABLE, count))

    def answer(self, target, unit, stable):
        """(problem or None, main pid) of the app answering on target."""
        params = self.params
        failed = (lambda: self.host.systemctl("is-failed", unit)[1] == "failed") if unit else None
        problem, _attempts, _status = wait_healthy(
            lambda timeout: ask(target, params["health_path"], timeout), params["health_status"],
            params["health_timeout"], failed=failed)
        if problem:
            return "%s %s on %s" % (params["health_path"], problem, target), 0
        pid = self.host.main_pid(unit) if unit else 0
        if stable > 0:
            problem, _probes = watch_stable(
                lambda: ask(target, params["health_path"], 5.0), lambda: self.host.main_pid(unit), pid,
                params["health_status"], stable, params["health_timeout"])
            if problem:
                return ("%s answered %s, then %s; a release must keep serving for %ss"
                        % (params["health_path"], params["health_status"], problem, stable)), pid
        return None, pid

    def stop(self, paths, drain_first):
        """Stop a slot once its requests have finished, and leave it out at boot.
        No daemon reload: it would forget the serving slot's starts toward its
        start limit."""
        since = time.monotonic()
        left = drain(paths["socket"], self.params["graceful_timeout"]) if drain_first else 0
        self.host.systemctl("stop", paths["socket_unit"], paths["service_unit"])
        self.host.systemctl("--no-reload", "disable", paths["socket_unit"], paths["service_unit"])
        remove(paths["workers_file"])
        self.host.step("%s stopped%s" % (paths["name"], ", %d connection(s) left to uvicorn's graceful stop" % left
                                         if left else ""), since)

    def route(self, paths):
        """Link the stable path to a slot's socket, and hand it the requests
        held meanwhile."""
        write_file(self.layout["tmpfiles"], tmpfiles_line(self.layout, paths["name"]))
        changed = link(paths["socket"], self.layout["socket"])
        self.release_requests(paths)
        return changed

    def hold_requests(self):
        """While no slot serves, new connections wait on the hold socket with
        their requests: a missing stable path would fail the edge's dial, and
        Caddy before 2.11 cannot send a request body again after a failed
        dial (caddyserver/caddy#7546), so a POST would be lost."""
        layout, params = self.layout, self.params
        self.release_requests(None)
        bound = params["graceful_timeout"] + params["health_timeout"] + params["health_stable"] + 30
        rc, _out, err = self.host.run(hold_command(layout, params["socket_group"], bound, params["sandbox"]))
        if rc != 0:
            self.undo("could not start %s to hold new requests: %s" % (layout["hold_unit"], err))
        link(layout["hold_socket"], layout["socket"])

    def release_requests(self, paths):
        """Hand the connections held on the hold socket to a slot, wait until
        the proxy has passed every one on, and remove the hold. With no slot,
        drop them: a hold an interrupted run left, before a new one."""
        layout = self.layout
        service = layout["hold_unit"] + ".service"
        if not os.path.exists(layout["hold_socket"]):
            return
        since = time.monotonic()
        if paths:
            link(paths["socket"], layout["hold_target"])
            # A connection that resolved the stable path just before it moved
            # lands here; its service starts before the first look.
            time.sleep(0.3)
            deadline = time.monotonic() + self.params["graceful_timeout"] + 30
            while self.host.active(service) and time.monotonic() < deadline:
                time.sleep(0.2)
        self.host.systemctl("stop", layout["hold_unit"] + ".socket", service)
        remove(layout["hold_target"])
        self.host.step("requests held meanwhile %s" % ("handed to " + paths["name"] if paths else "dropped"), since)

    def put_back(self):
        """The host as it served: the live slot running, on the stable path, at
        its full count; the slot stopped. Returns the slot's journal."""
        journal = self.host.journal(self.slot["service_unit"])
        live = self.live
        # Stopped first to make room while new requests wait on the hold:
        # the slot, which no user reached, goes before the live one starts
        # again, so the two never run together.
        slot_first = live is not None and link_target(self.layout["socket"]) == self.layout["hold_socket"]
        if slot_first:
            self.stop(self.slot, drain_first=False)
        if live:
            if not self.host.active(live["service_unit"]):
                # It stopped first to make room: its restart reads no hold file.
                remove(live["workers_file"])
                self.host.systemctl("start", live["socket_unit"], live["service_unit"])
                self.host.steps.append("%s started again" % live["name"])
            self.route(live)
        elif link_target(self.layout["socket"]) == self.slot["socket"]:
            remove(self.layout["socket"])
            remove(self.layout["tmpfiles"])
        if not slot_first:
            self.stop(self.slot, drain_first=live is not None)
        if live:
            unit = live["service_unit"]
            full = configured_workers(self.host.show(unit, "Environment"), self.host.show(unit, "ExecStart"))
            problem = self.set_workers(live, full, "went back")
            remove(live["workers_file"])
            if problem:
                self.host.steps.append("%s: %s" % (live["name"], problem))
        return journal

    def started(self):
        params, live, slot = self.params, self.live, self.slot
        workers = params["workers"]
        start_workers = params["start_workers"] or workers
        held_at = 0.0
        if params["bytecode"]:
            # Before anything is held or stopped: no user waits meanwhile.
            since = time.monotonic()
            compiled, problem = compile_bytecode(self.host.run, params["release_dir"], params["bytecode"])
            self.host.step("%d modules compiled to bytecode%s" % (compiled, ", not all: " + problem if problem else ""),
                           since)
        if live and params["stop_first"]:
            since = time.monotonic()
            held_at = time.time()
            self.hold_requests()
            left = drain(live["socket"], params["graceful_timeout"])
            self.host.systemctl("stop", live["socket_unit"], live["service_unit"])
            self.host.step("new requests held, %s stopped%s" % (
                live["name"], ", %d connection(s) cut short" % left if left else ""), since)
        elif live and params["serving_workers"]:
            problem = self.give_back(live, params["serving_workers"])
            if problem:
                self.undo("%s could not give back workers: %s" % (live["name"], problem))
        if start_workers < workers:
            self.hold(slot, start_workers)
        else:
            remove(slot["workers_file"])
        since = time.monotonic()
        self.host.systemctl("reset-failed", slot["socket_unit"], slot["service_unit"])
        # Enabled before it starts: enabling reloads systemd, and a reload
        # forgets the starts a crashing unit has made toward its start limit.
        problem = None
        for args in (("enable", slot["socket_unit"], slot["service_unit"]),
                     ("restart", slot["socket_unit"]), ("restart", slot["service_unit"])):
            rc, _out, err = self.host.systemctl(*args)
            if rc != 0:
                problem = "systemctl %s failed: %s" % (" ".join(args), err)
                break
        self.host.step("%s started with %d workers" % (slot["name"], start_workers), since)
        pid = 0
        if not problem:
            since = time.monotonic()
            problem, pid = self.answer(slot["socket"], slot["service_unit"], params["health_stable"])
            self.host.step("%s %s" % (slot["name"], "failed its health check" if problem else "answered"), since)
        if problem:
            self.undo(problem, held_at=held_at)
        self.module.exit_json(changed=True, main_pid=pid, held_at=held_at, waited=0.0, steps=self.host.steps,
                              workers=self.workers())

    def undo(self, problem, held_at=0.0):
        journal = self.put_back()
        waited = round(time.time() - held_at, 1) if held_at else 0.0
        self.fail(problem, journal=journal, waited=waited)

    def switched(self):
        params, live, slot = self.params, self.live, self.slot
        before = {"socket": link_target(self.layout["socket"]), "current": link_target(self.layout["current"])}
        since = time.monotonic()
        self.route(slot)
        link(params["release_dir"], self.layout["current"])
        problem, _pid = self.answer(self.layout["socket"], None, 0)
        self.host.step("traffic moved to %s%s" % (slot["name"], ", which did not answer" if problem else ""), since)
        waited = round(time.time() - params["held_at"], 1) if params["held_at"] else 0.0
        if problem:
            if before["current"]:
                link(before["current"], self.layout["current"])
            else:
                remove(self.layout["current"])
            journal = self.put_back()
            self.fail(problem, journal=journal, waited=waited, served_users=True)
        if live and live["name"] != slot["name"]:
            self.stop(live, drain_first=not params["stop_first"])
        problem = self.set_workers(slot, params["workers"], "grew")
        remove(slot["workers_file"])
        if problem:
            self.module.warn("%s serves with fewer workers than planned: %s" % (slot["name"], problem))
        if params["previous_dir"] and params["previous_dir"] != params["release_dir"]:
            link(params["previous_dir"], self.layout["previous"])
        self.module.exit_json(changed=True, waited=waited, held_at=0.0, steps=self.host.steps,
                              workers=self.workers())

    def undone(self):
        journal = self.put_back()
        self.module.exit_json(changed=True, journal=journal, steps=self.host.steps, held_at=0.0, waited=0.0,
                              workers=self.workers())


def main():
    module = AnsibleModule(
        argument_spec=dict(
            app=dict(type="str", required=True),
            slot=dict(type="str", required=True, choices=["blue", "green"]),
            live=dict(type="str", default=""),
            state=dict(type="str", required=True, choices=["started", "switched", "undone"]),
            workers=dict(type="int", default=1),
            start_workers=dict(type="int", default=0),
            serving_workers=dict(type="int", default=0),
            stop_first=dict(type="bool", default=False),
            socket_group=dict(type="str", default=""),
            sandbox=dict(type="list", elements="str", default=[]),
            held_at=dict(type="float", default=0),
            release_dir=dict(type="path"),
            bytecode=dict(type="list", elements="str", default=[]),
            previous_dir=dict(type="str", default=""),
            health_path=dict(type="str", default="/"),
            health_status=dict(type="int", default=200),
            health_timeout=dict(type="int", default=60),
            health_stable=dict(type="int", default=0),
            graceful_timeout=dict(type="int", default=20),
        ),
        required_if=[("state", "switched", ["release_dir"])],
        supports_check_mode=True,
    )
    params = module.params
    if params["live"] not in ("", "blue", "green") or params["live"] == params["slot"] and params["state"] != "undone":
        module.fail_json(msg="app_slot: live must be '' or the other slot than %s, got %r" % (params["slot"], params["live"]))
    if params["workers"] < 1 or params["start_workers"] < 0 or params["start_workers"] > params["workers"] \
            or params["serving_workers"] < 0:
        module.fail_json(msg="app_slot: workers must be at least 1, start_workers and serving_workers between 0 and "
                             "workers; got %(workers)s, %(start_workers)s, %(serving_workers)s" % params)
    if params["state"] == "started" and (params["stop_first"] or params["serving_workers"]) and not params["socket_group"]:
        module.fail_json(msg="app_slot: stop_first and serving_workers need socket_group, the group of the hold socket")
    if params["bytecode"] and not params["release_dir"]:
        module.fail_json(msg="app_slot: bytecode needs release_dir, the release the files are in")
    if module.check_mode:
        module.exit_json(changed=True, steps=["%s would be %s" % (params["slot"], params["state"])],
                         held_at=0.0, waited=0.0, workers={})
    move = SlotMove(module, Host(module))
    getattr(move, params["state"])()


if __name__ == "__main__":
    main()
