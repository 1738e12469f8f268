# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where an app lives on a host: its folders, its two slots (each a socket
and a service unit), the stable socket path that leads to the serving slot,
and the TCP front. The one place that names them; the app_plan filter, the
modules and the role's templates read it from here."""

from __future__ import annotations

import os

# The serving release runs in one slot; a new release starts in the other.
SLOTS = ("blue", "green")


def slot_paths(name, slot):
    """The names and paths of one slot of app `name`."""
    unit = "%s@%s" % (name, slot)
    return {
        "name": slot,
        "unit": unit,
        "socket_unit": unit + ".socket",
        "service_unit": unit + ".service",
        "socket": "/run/%s/%s.sock" % (name, slot),
        "env_file": "/etc/%s/%s.env" % (name, slot),
        # The slot's secret files (app_secret_files).
        "credentials": "/etc/%s/credentials/%s" % (name, slot),
        # Present only while a switch runs the slot with fewer workers than
        # its unit says (read by the unit as an optional EnvironmentFile=):
        # in /run, so a reboot starts the slot at its full count.
        "workers_file": "/run/%s/%s.workers" % (name, slot),
    }


def app_layout(name):
    """Every path and unit name of app `name` that does not depend on a run."""
    tcp = name + "-tcp"
    return {
        "name": name,
        "root": "/opt/" + name,
        "releases": "/opt/%s/releases" % name,
        "current": "/opt/%s/current" % name,
        "previous": "/opt/%s/previous" % name,
        "etc": "/etc/" + name,
        "credentials": "/etc/%s/credentials" % name,
        "state": "/var/lib/" + name,
        "run_dir": "/run/" + name,
        # The stable path Caddy dials: a symlink to the serving slot's socket.
        "socket": "/run/%s/%s.sock" % (name, name),
        "tmpfiles": "/etc/tmpfiles.d/asgi-%s.conf" % name,
        # While no slot serves (a switch that stops the serving slot first),
        # the stable path links to the hold socket: a transient unit's socket
        # that queues new connections, unanswered, until the slot that serves
        # next is linked at hold_target and its proxy hands them over.
        "hold_unit": name + "-hold",
        "hold_socket": "/run/%s/hold.sock" % name,
        "hold_target": "/run/%s/hold-target.sock" % name,
        "run_command": "/usr/local/bin/%s-run" % name,
        "deploy_dir": "/var/lib/asgi-deploy/" + name,
        "tcp_unit": tcp,
        "tcp_units": [tcp + ".socket", tcp + ".service"],
        # One slot, before collection 0.3.
        "legacy_units": [name + ".socket", name + ".service"],
        "slots": dict((slot, slot_paths(name, slot)) for slot in SLOTS),
    }


def slot_units(name):
    """Every slot's socket and service unit, sockets first."""
    paths = [slot_paths(name, slot) for slot in SLOTS]
    return [p["socket_unit"] for p in paths] + [p["service_unit"] for p in paths]


def service_units(name):
    """The service units an app may run: its two slots, and the single unit
    of collection versions before 0.3."""
    return [slot_paths(name, slot)["service_unit"] for slot in SLOTS] + [name + ".service"]


def slot_of_link(target):
    """The slot a stable socket path's link target names, or ''."""
    base = os.path.basename(target or "")
    slot = base[:-len(".sock")] if base.endswith(".sock") else ""
    return slot if slot in SLOTS else ""


def other_slot(slot):
    """The slot a new release starts in when `slot` serves ('' serves none: the first)."""
    return SLOTS[1] if slot == SLOTS[0] else SLOTS[0]


def serving_unit(name, run_dir="/run"):
    """The service of the slot the app's stable socket path links to (the
    single unit of collection versions before 0.3 when it links to none)."""
    link = os.path.join(run_dir, name, name + ".sock")
    slot = slot_of_link(os.readlink(link)) if os.path.islink(link) else ""
    return slot_paths(name, slot)["service_unit"] if slot else name + ".service"
