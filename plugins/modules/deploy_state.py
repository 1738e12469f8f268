#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_state
short_description: What a run left a host as, recorded, and checked by the next run in one call
version_added: 0.6.0
description:
  - With O(state=recorded), at the end of a run that went well, writes the
    record C(<path>/<name>.json), readable by root only - the digest of the
    run's settings, source and collection (O(inputs), from the lookup
    P(asgi.deploy.deploy_inputs#lookup)), the same without the app's source
    (O(settings)), the fleet as the run saw it (O(fleet)), and what O(watch)
    names as it is now.
  - With O(state=checked), at the start of a run, finds the record of a run
    with the same O(inputs) and compares the host with it - RV(drift) lists
    what differs, and is empty when the host is still what that run left. A
    run learns in one round trip per host that it has nothing to do.
  - Without one, a record with the same O(settings) does, when only the
    app's source differs (a new release). RV(settled) then says whether the
    host is otherwise what that run left, so that the roles that never read
    the source have nothing to do on it.
  - With O(state=absent), removes the record of O(name) (the app is gone).
  - A check also returns the host's own addresses and the address its
    controller connects from (RV(seen)); a run's fleet is what every host saw.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  state:
    description: Check the host against a record, record it, or remove it.
    type: str
    choices: [checked, recorded, absent]
    default: checked
  path:
    description: The folder of the records, one per deploy.
    type: path
    default: /var/lib/asgi-deploy/_runs
  inputs:
    description: The digest of what decides the run (settings, source, collection). Required but with O(state=absent).
    type: str
  settings:
    description:
      - The digest of what decides the run but the app's source (the lookup's
        C(source=false)); with O(state=recorded), kept in the record, with
        O(state=checked), matched when no record has the same O(inputs).
    type: str
  name:
    description: The deploy's name, the record's file name. Required with O(state=recorded) and O(state=absent).
    type: str
  fleet:
    description: With O(state=recorded), every host of the run and what it saw (RV(seen)).
    type: dict
    default: {}
  watch:
    description:
      - With O(state=recorded), what a later check compares, by part (a role's
        name), each part any of
      - C(files), globs - a file's content, mode and owner, every file under a
        folder, a link's target; a glob that matches nothing counts as absent;
      - C(listings), globs whose matches count by name only (a virtualenv's
        C(*.dist-info));
      - C(units), systemd units whose state counts (C(systemctl is-active));
      - C(nft_tables), nftables tables (C(inet asgi_deploy)) whose rules count,
        without their counters;
      - C(probes), each C(url) (a unix socket path or C(host:port)), C(path) and
        C(status) - one GET at a check, which must answer that status;
      - C(capacity), true - the memory and CPUs the worker sizing reads;
      - C(controller_files), files the run wrote on the controller (a fetched
        certificate), which a check returns (RV(controller_files)) for the
        controller to look for.
    type: dict
    default: {}
extends_documentation_fragment:
  - asgi.deploy.attributes
notes:
  - A check's probes run only when every unit is as recorded - a GET to a
    stopped socket-activated service would start it.
"""

EXAMPLES = r"""
- name: See whether the host is what a run with these inputs left it as
  asgi.deploy.deploy_state:
    inputs: "{{ lookup('asgi.deploy.deploy_inputs', 'web1') }}"
  register: checked

- name: Record what the run left
  asgi.deploy.deploy_state:
    state: recorded
    name: shop
    inputs: "{{ lookup('asgi.deploy.deploy_inputs', 'web1') }}"
    fleet: {web1: "{{ checked.seen }}"}
    watch:
      app:
        files: [/etc/shop, "/etc/systemd/system/shop@*", /opt/shop/current]
        listings: ["/opt/shop/current/venv/lib/python*/site-packages/*.dist-info"]
        units: [shop@blue.socket, shop@blue.service]
        probes: [{url: /run/shop/shop.sock, path: /health, status: 200}]
        capacity: true
      caddy:
        files: [/etc/caddy/Caddyfile]
        units: [caddy.service]
"""

RETURN = r"""
drift:
  description: With O(state=checked), what differs from the record, one line each; empty when nothing does.
  returned: always
  type: list
  elements: str
  sample: ["no record of a run with these settings here", "changed: /etc/shop/blue.env", "shop@blue.service is failed, was active"]
settled:
  description:
    - With O(state=checked), true when a record with the same O(inputs), or
      else the same O(settings), was found and the host is what that run left.
  returned: always
  type: bool
watch:
  description: With O(state=checked), the O(watch) of the record found, by part; empty without one.
  returned: always
  type: dict
fleet:
  description: The fleet the record names (O(fleet) of the run that wrote it); empty without one.
  returned: always
  type: dict
recorded_at:
  description: When the record was written (UTC, ISO 8601); empty without one.
  returned: always
  type: str
controller_files:
  description: With O(state=checked), the record's C(controller_files), for the controller to look for.
  returned: always
  type: list
  elements: str
seen:
  description:
    - With O(state=checked), this host's global addresses, without loopback and
      link-local ones (what a firewall and PostgreSQL admit it by), and the
      address its controller connects from over SSH (empty for other
      connections); empty otherwise.
  returned: always
  type: dict
  sample: {"addresses": ["10.0.0.5"], "controller": "10.0.0.1"}
"""

import glob
import hashlib
import json
import os
import socket
import stat
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.asgi.deploy.plugins.module_utils.capacity import host_capacity
from ansible_collections.asgi.deploy.plugins.module_utils.connection import source_address, ssh_connection
from ansible_collections.asgi.deploy.plugins.module_utils.serving import ask

PROBE_TIMEOUT = 5


def path_state(path):
    """One path as a string that changes when its content, mode, owner or target does."""
    try:
        info = os.lstat(path)
    except OSError:
        return "absent"
    if stat.S_ISLNK(info.st_mode):
        return "link " + os.readlink(path)
    owner = "%o %d:%d" % (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)
    if stat.S_ISDIR(info.st_mode):
        return "folder " + owner
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
    except OSError:
        return "unreadable " + owner
    return "file %s %s" % (digest.hexdigest(), owner)


def files_state(patterns):
    """{path: path_state} of every match of the globs, folders walked; a glob with no match is absent."""
    found = {}
    for pattern in patterns:
        matches = sorted(glob.glob(pattern))
        if not matches:
            found[pattern] = "absent"
        for match in matches:
            found[match] = path_state(match)
            if os.path.isdir(match) and not os.path.islink(match):
                for root, folders, names in os.walk(match):
                    folders.sort()
                    for name in sorted(folders + names):
                        found[os.path.join(root, name)] = path_state(os.path.join(root, name))
    return found


def listings_state(patterns):
    return dict((pattern, sorted(os.path.basename(match) for match in glob.glob(pattern))) for pattern in patterns)


def units_state(module, units):
    if not units:
        return {}
    # is-active prints one line per unit, in order, whatever its exit code.
    _rc, out, _err = module.run_command(["systemctl", "is-active"] + list(units))
    states = out.split()
    return dict((unit, states[i] if i < len(states) else "unknown") for i, unit in enumerate(units))


def nft_state(module, tables):
    found = {}
    nft = module.get_bin_path("nft") if tables else None
    for table in tables:
        if not nft:
            found[table] = "absent"
            continue
        # -s: without counters, which change with every packet.
        rc, out, _err = module.run_command([nft, "-s", "list", "table"] + table.split())
        found[table] = hashlib.sha256(out.encode()).hexdigest() if rc == 0 else "absent"
    return found


def capacity_state():
    try:
        facts = host_capacity()
    except ValueError as error:
        return str(error)
    return "%d MiB, %s CPUs" % (facts["memory_mb"], facts["cpus"])


def merged(parts):
    """One watch of a watch by part: each list joined, capacity if any part has it."""
    watch = {}
    for part in parts.values():
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key == "capacity":
                watch[key] = watch.get(key, False) or bool(value)
            else:
                watch[key] = watch.get(key, []) + list(value or [])
    return watch


def found_record(records, inputs, settings):
    """The record of a run with these inputs, or else of one with these
    settings (only the source differs), and whether it is the latter."""
    for key, value in (("inputs", inputs), ("settings", settings)):
        for record in records:
            if value and record.get(key) == value:
                return record, key == "settings"
    return None, False


def observe(module, watch):
    """What the watch names as it is now; probes are asked at a check only."""
    return {
        "files": files_state(watch.get("files") or []),
        "listings": listings_state(watch.get("listings") or []),
        "units": units_state(module, watch.get("units") or []),
        "nft_tables": nft_state(module, watch.get("nft_tables") or []),
        "capacity": capacity_state() if watch.get("capacity") else "",
    }


def differences(recorded, now):
    """What differs between two observations, one line each, in a stable order."""
    lines = []
    old, new = recorded.get("files", {}), now.get("files", {})
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path, "absent"), new.get(path, "absent")
        if before == after:
            continue
        if after == "absent":
            lines.append("gone: " + path)
        elif before == "absent":
            lines.append("new: " + path)
        else:
            lines.append("changed: " + path)
    old, new = recorded.get("listings", {}), now.get("listings", {})
    for pattern in sorted(set(old) | set(new)):
        before, after = set(old.get(pattern, [])), set(new.get(pattern, []))
        if before != after:
            lines.append("changed: %s (%s)" % (pattern, ", ".join(
                ["- " + name for name in sorted(before - after)] + ["+ " + name for name in sorted(after - before)])))
    old, new = recorded.get("units", {}), now.get("units", {})
    for unit in sorted(set(old) | set(new)):
        if old.get(unit) != new.get(unit):
            lines.append("%s is %s, was %s" % (unit, new.get(unit, "not watched"), old.get(unit, "not watched")))
    old, new = recorded.get("nft_tables", {}), now.get("nft_tables", {})
    for table in sorted(set(old) | set(new)):
        if old.get(table) != new.get(table):
            lines.append("the nftables table %s %s" % (table, "is gone" if new.get(table) == "absent" else "changed"))
    if recorded.get("capacity", "") != now.get("capacity", ""):
        lines.append("the host's memory and CPUs are %s, were %s" % (now.get("capacity"), recorded.get("capacity")))
    return lines


def probe_drift(probes, asker=ask):
    lines = []
    for probe in probes:
        status, error, _first = asker(probe["url"], probe["path"], PROBE_TIMEOUT)
        if status != int(probe["status"]):
            lines.append("GET %s on %s: %s, wants %s" % (
                probe["path"], probe["url"], error if status is None else "answered %s" % status, probe["status"]))
    return lines


def read_records(folder):
    records = []
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        try:
            with open(path) as handle:
                record = json.load(handle)
        except (OSError, ValueError):
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def addresses(module):
    """The host's own addresses, as `ip` lists those of global scope (its
    name's otherwise), without loopback and link-local ones: where its
    connections to the other hosts come from."""
    found = []
    ip = module.get_bin_path("ip")
    if ip:
        rc, out, _err = module.run_command([ip, "-o", "addr", "show", "scope", "global"])
        if rc == 0:
            found = [fields[3].split("/")[0] for fields in (line.split() for line in out.splitlines())
                     if len(fields) > 3 and fields[2] in ("inet", "inet6")]
    if not found:
        try:
            found = socket.gethostbyname_ex(socket.gethostname())[2]
        except OSError:
            found = []
    return sorted(set(source for source in map(source_address, found) if source))


def seen(module):
    connection = ssh_connection(os.environ, os.getppid()).split()
    return {"addresses": addresses(module), "controller": connection[0] if len(connection) == 4 else ""}


def write_record(module, folder, name, record):
    """Writes the record unless it says what the one there says; True when it differs."""
    path = os.path.join(folder, name + ".json")
    try:
        with open(path) as handle:
            before = json.load(handle)
    except (OSError, ValueError):
        before = None
    if isinstance(before, dict) and dict(before, recorded_at="") == dict(record, recorded_at=""):
        return False
    if not module.check_mode:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix="." + name + ".")
        with os.fdopen(handle, "w") as out:
            json.dump(record, out, sort_keys=True)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["checked", "recorded", "absent"], default="checked"),
            path=dict(type="path", default="/var/lib/asgi-deploy/_runs"),
            inputs=dict(type="str"),
            settings=dict(type="str"),
            name=dict(type="str"),
            fleet=dict(type="dict", default={}),
            watch=dict(type="dict", default={}),
        ),
        required_if=[("state", "recorded", ["name", "inputs"]), ("state", "checked", ["inputs"]),
                     ("state", "absent", ["name"])],
        supports_check_mode=True,
    )
    params = module.params
    result = dict(changed=False, drift=[], settled=False, watch={}, fleet={}, recorded_at="", controller_files=[],
                  seen={})
    if params["state"] != "checked" and ("/" in params["name"] or params["name"].startswith(".")):
        module.fail_json(msg="name must be a plain file name, got %r" % params["name"])
    if params["state"] == "absent":
        path = os.path.join(params["path"], params["name"] + ".json")
        result["changed"] = os.path.exists(path)
        if result["changed"] and not module.check_mode:
            os.unlink(path)
        module.exit_json(**result)
    if params["state"] == "recorded":
        record = {"name": params["name"], "inputs": params["inputs"], "settings": params["settings"],
                  "fleet": params["fleet"], "watch": params["watch"], "state": observe(module, merged(params["watch"])),
                  "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        result.update(changed=write_record(module, params["path"], params["name"], record),
                      fleet=record["fleet"], recorded_at=record["recorded_at"])
        module.exit_json(**result)

    result["seen"] = seen(module)
    record, source_only = found_record(read_records(params["path"]), params["inputs"], params["settings"])
    if record is None:
        result["drift"] = ["no record of a run with these settings, source and collection here"]
        module.exit_json(**result)
    watch = merged(record.get("watch") or {})
    drift = differences(record.get("state") or {}, observe(module, watch))
    if not drift:
        drift = probe_drift(watch.get("probes") or [])
    result.update(settled=not drift, watch=record.get("watch") or {}, fleet=record.get("fleet") or {},
                  recorded_at=record.get("recorded_at", ""), controller_files=watch.get("controller_files") or [])
    if source_only:
        drift = ["the app's source is not the one of that run"] + drift
    result["drift"] = drift
    module.exit_json(**result)


if __name__ == "__main__":
    main()
