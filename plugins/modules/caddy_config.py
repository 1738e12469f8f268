#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: caddy_config
short_description: Check or put in place Caddy's main Caddyfile and one app's sites, in one call
version_added: 0.6.0
description:
  - Caddy's configuration is a main Caddyfile (global options) that imports
    one sites file per app (C(/etc/caddy/sites.d/<name>.caddy)). This module
    checks a candidate main file and one app's sites file with C(caddy
    validate), together with every other app's sites file as they are on the
    host, so a file is only accepted when everything Caddy would load with it
    is valid.
  - With O(state=checked) it changes nothing and also returns the first line
    of every other app's sites file (the domains each serves), for the
    caller to refuse a domain another app holds.
  - With O(state=present) it also puts the files in place (only when they
    differ, and only when valid), with the drop-in O(dropin) for Debian's
    C(caddy.service) and the folders they need, makes C(caddy) a member of
    O(groups), and then restarts Caddy (a new drop-in, or a new group, as a
    running process keeps the groups it started with), reloads it (a
    changed configuration), or starts it.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  state:
    description: C(checked) to validate only, C(present) to put in place.
    type: str
    choices: [checked, present]
    default: present
  main:
    description: The main Caddyfile.
    type: str
    required: true
  name:
    description: The app's sites file's name, without C(.caddy).
    type: str
    required: true
  sites:
    description: The app's sites file.
    type: str
    required: true
  validate:
    description:
      - Whether to run C(caddy validate). With O(state=checked), sites with
        certificate files that are not on the host yet cannot be validated.
    type: bool
    default: true
  header:
    description: The first line of every sites file starts with this; with O(state=checked) those lines of the other apps' files are returned.
    type: str
    default: "# asgi.deploy sites: "
  config:
    description: Path of the main Caddyfile; the sites files are in C(sites.d) beside it.
    type: path
    default: /etc/caddy/Caddyfile
  dropin:
    description: With O(state=present), the content of C(caddy.service)'s drop-in; empty leaves it alone.
    type: str
    default: ""
  dropin_path:
    description: Where the drop-in goes.
    type: path
    default: /etc/systemd/system/caddy.service.d/asgi-deploy.conf
  groups:
    description:
      - Groups the C(caddy) user must belong to (it keeps the ones it has);
        with O(state=checked) whether it does is returned as RV(joined).
    type: list
    elements: str
    default: []
  log_dir:
    description: With O(state=present), a folder for Caddy's access log file, owned by C(caddy); empty for none.
    type: str
    default: ""
attributes:
  check_mode:
    description: Says what would change, and validates the candidate files, writing nothing.
    support: full
  diff_mode:
    description: Shows the changes to the main Caddyfile and the sites file.
    support: full
"""

EXAMPLES = r"""
- name: Check the candidate configuration before anything changes
  asgi.deploy.caddy_config:
    state: checked
    main: "{{ lookup('ansible.builtin.template', 'Caddyfile.j2') }}"
    name: shop
    sites: "{{ lookup('ansible.builtin.template', 'sites.caddy.j2') }}"
  register: candidate

- name: Put it in place
  asgi.deploy.caddy_config:
    main: "{{ lookup('ansible.builtin.template', 'Caddyfile.j2') }}"
    name: shop
    sites: "{{ lookup('ansible.builtin.template', 'sites.caddy.j2') }}"
    dropin: "{{ lookup('ansible.builtin.template', 'caddy-service.conf.j2') }}"
    groups: [asgi-web]
"""

RETURN = r"""
valid:
  description: Whether Caddy accepts the candidate configuration.
  returned: always
  type: bool
problem:
  description: What C(caddy validate) said when it refused the configuration (its lines that name an error).
  returned: when not RV(valid)
  type: str
taken:
  description: The header line of every other app's sites file, as C(<path>:<line>) (what C(grep -H) prints).
  returned: always
  type: list
  elements: str
action:
  description: What Caddy was told, C(restarted), C(reloaded), C(started) or C(none).
  returned: always
  type: str
installed:
  description: Whether Caddy is installed on the host (without it nothing can be validated, and RV(valid) is true).
  returned: always
  type: bool
joined:
  description: Whether the C(caddy) user is a member of every group of O(groups) already.
  returned: always
  type: bool
"""

import grp
import os
import pwd
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def others(sites_dir, name):
    """{file name: content} of the other apps' sites files."""
    try:
        names = sorted(entry for entry in os.listdir(sites_dir) if entry.endswith(".caddy"))
    except OSError:
        return {}
    found = {}
    for entry in names:
        if entry != name + ".caddy":
            text = read(os.path.join(sites_dir, entry))
            if text is not None:
                found[entry] = text
    return found


def taken(sites_dir, sites, header):
    return ["%s:%s" % (os.path.join(sites_dir, entry), text.splitlines()[0])
            for entry, text in sorted(sites.items()) if text.startswith(header)]


def validate(module, caddy, main, name, sites, other_sites):
    """(valid, problem) of the whole configuration with these two files,
    checked in a scratch copy of the layout (the main file imports
    sites.d/*.caddy relative to itself)."""
    scratch = tempfile.mkdtemp(prefix="asgi-caddy-")
    try:
        os.mkdir(os.path.join(scratch, "sites.d"))
        for entry, text in dict(other_sites, **{name + ".caddy": sites}).items():
            with open(os.path.join(scratch, "sites.d", entry), "w") as handle:
                handle.write(text)
        with open(os.path.join(scratch, "Caddyfile"), "w") as handle:
            handle.write(main)
        rc, out, err = module.run_command([caddy, "validate", "--adapter", "caddyfile",
                                           "--config", os.path.join(scratch, "Caddyfile")])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if rc == 0:
        return True, ""
    lines = [line for line in (out + err).splitlines() if "rror" in line]
    return False, " ".join(lines[-3:]) or (out + err).strip()[-500:]


def write(module, path, text, mode, group="root"):
    """Put text at path (atomically) when it differs; True when it changed."""
    if read(path) == text:
        return False
    if not module.check_mode:
        directory = os.path.dirname(path)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".asgi-")
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.chown(temporary, 0, grp.getgrnam(group).gr_gid)
        os.chmod(temporary, mode)
        os.rename(temporary, path)
    return True


def folder(module, path, mode, owner="root", group="root"):
    """Make a folder with this owner and mode; True when anything changed."""
    uid, gid = pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        if not module.check_mode:
            os.makedirs(path, mode)
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        return True
    if (stat.st_uid, stat.st_gid, stat.st_mode & 0o7777) == (uid, gid, mode):
        return False
    if not module.check_mode:
        os.chown(path, uid, gid)
        os.chmod(path, mode)
    return True


def joined(groups):
    """Whether caddy is in every group already (False when it or a group is not there)."""
    try:
        gid = pwd.getpwnam("caddy").pw_gid
        return all("caddy" in entry.gr_mem or entry.gr_gid == gid for entry in map(grp.getgrnam, groups))
    except KeyError:
        return False


def join_groups(module, groups):
    """Add the caddy user to groups it is not in; True when it joined one."""
    try:
        entries = [grp.getgrnam(group) for group in groups]
    except KeyError as error:
        module.fail_json(msg="caddy_config: no group %s on this host for Caddy to join" % error)
    missing = [entry.gr_name for entry in entries
               if "caddy" not in entry.gr_mem and entry.gr_gid != pwd.getpwnam("caddy").pw_gid]
    if missing and not module.check_mode:
        module.run_command([module.get_bin_path("usermod", required=True), "--append", "--groups",
                            ",".join(missing), "caddy"], check_rc=True)
    return bool(missing)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["checked", "present"], default="present"),
            main=dict(type="str", required=True),
            name=dict(type="str", required=True),
            sites=dict(type="str", required=True),
            validate=dict(type="bool", default=True),
            header=dict(type="str", default="# asgi.deploy sites: "),
            config=dict(type="path", default="/etc/caddy/Caddyfile"),
            dropin=dict(type="str", default=""),
            dropin_path=dict(type="path", default="/etc/systemd/system/caddy.service.d/asgi-deploy.conf"),
            groups=dict(type="list", elements="str", default=[]),
            log_dir=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    params = module.params
    config_dir = os.path.dirname(params["config"])
    sites_dir = os.path.join(config_dir, "sites.d")
    sites_path = os.path.join(sites_dir, params["name"] + ".caddy")
    other_sites = others(sites_dir, params["name"])
    caddy = module.get_bin_path("caddy")
    result = dict(changed=False, valid=True, taken=taken(sites_dir, other_sites, params["header"]), action="none",
                  installed=caddy is not None, joined=joined(params["groups"]))
    if caddy and params["validate"]:
        result["valid"], problem = validate(module, caddy, params["main"], params["name"], params["sites"],
                                            other_sites)
        if not result["valid"]:
            result["problem"] = problem
    if params["state"] == "checked":
        module.exit_json(**result)
    if not caddy:
        module.fail_json(msg="caddy_config: Caddy is not installed (no caddy command)", **result)
    if not result["valid"]:
        module.fail_json(msg="Caddy refuses the configuration; the running Caddy keeps the one it has: %s" % problem,
                         **result)
    before = {"main": read(params["config"]) or "", "sites": read(sites_path) or ""}
    restart = False
    if params["dropin"]:
        folder(module, os.path.dirname(params["dropin_path"]), 0o755)
        restart = write(module, params["dropin_path"], params["dropin"], 0o644)
        if restart and not module.check_mode:
            module.run_command([module.get_bin_path("systemctl", required=True), "daemon-reload"], check_rc=True)
    restart = join_groups(module, params["groups"]) or restart
    changed = restart
    if params["log_dir"]:
        changed = folder(module, params["log_dir"], 0o750, "caddy", "caddy") or changed
    changed = folder(module, sites_dir, 0o750, "root", "caddy") or changed
    reload = write(module, params["config"], params["main"], 0o640, "caddy")
    reload = write(module, sites_path, params["sites"], 0o640, "caddy") or reload
    systemctl = module.get_bin_path("systemctl", required=True)
    active = module.run_command([systemctl, "is-active", "caddy"])[1].strip() == "active"
    result["action"] = ("restarted" if restart or not active and reload else "reloaded" if reload
                        else "started" if not active else "none")
    if result["action"] != "none" and not module.check_mode:
        verb = {"restarted": "restart", "reloaded": "reload", "started": "start"}[result["action"]]
        rc, _out, err = module.run_command([systemctl, verb, "caddy"])
        if rc != 0:
            module.fail_json(msg="systemctl %s caddy failed: %s" % (verb, err.strip()), **result)
    if not module.check_mode and not active:
        module.run_command([systemctl, "enable", "caddy"])
    result["changed"] = changed or reload or result["action"] != "none"
    if module._diff:
        result["diff"] = [{"before_header": params["config"], "after_header": params["config"],
                           "before": before["main"], "after": params["main"]},
                          {"before_header": sites_path, "after_header": sites_path,
                           "before": before["sites"], "after": params["sites"]}]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
