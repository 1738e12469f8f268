#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_base
short_description: An app's claim, its system user and groups, and its folders, in one call
version_added: 0.6.0
description:
  - Writes the app's claim (a JSON file naming what the collection creates
    for it) first, then creates what the claim names - the app's group and
    socket group, the app's system user (no login, its home the state
    folder, not created) - and the app's folders, each with its owner and
    mode. Changes only what differs.
  - The claim comes first so that a run stopped half-way leaves names the
    next run knows are the app's own (see M(asgi.deploy.host_claims)).
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  name:
    description: The app's name, its user and group.
    type: str
    required: true
  claim:
    description: The claim's content.
    type: dict
    required: true
  claims_dir:
    description: Folder of the apps' claims.
    type: path
    default: /etc/asgi-deploy/apps
  socket_group:
    description: The group that may connect to the app's sockets, shared by the apps of a host.
    type: str
    required: true
  home:
    description: The user's home, the app's state folder (not created here; systemd's StateDirectory= makes it).
    type: path
    required: true
  folders:
    description: Folders to make, each with C(path), C(mode) and optionally C(owner) and C(group) (root by default).
    type: list
    elements: dict
    default: []
extends_documentation_fragment:
  - asgi.deploy.attributes
"""

EXAMPLES = r"""
- name: Claim, create and lay out the app
  asgi.deploy.app_base:
    name: shop
    claim: {user: shop, groups: [shop, asgi-web], socket_group: asgi-web, tcp_port: 0}
    socket_group: asgi-web
    home: /var/lib/shop
    folders:
      - {path: /opt/shop, mode: "0755"}
      - {path: /etc/shop, mode: "0750", group: shop}
"""

RETURN = r"""
done:
  description: What was changed, in order.
  returned: always
  type: list
  elements: str
  sample: ["claim /etc/asgi-deploy/apps/shop.json", "group shop", "user shop", "folder /opt/shop"]
"""

import grp
import json
import os
import pwd
import tempfile

from ansible.module_utils.basic import AnsibleModule

NOLOGIN = "/usr/sbin/nologin"


class Base(object):
    def __init__(self, module):
        self.module, self.done = module, []

    def changed(self, what, action=None):
        self.done.append(what)
        if action is not None and not self.module.check_mode:
            action()

    def command(self, *argv):
        self.module.run_command([self.module.get_bin_path(argv[0], required=True)] + list(argv[1:]), check_rc=True)

    def claim(self, folder, name, claim):
        path = os.path.join(folder, name + ".json")
        text = json.dumps(claim, indent=4, sort_keys=True) + "\n"
        try:
            with open(path) as handle:
                same = handle.read() == text
        except OSError:
            same = False
        if not same:
            self.changed("claim " + path, lambda: self.write(path, text))

    def write(self, path, text):
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".asgi-")
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        os.rename(temporary, path)

    def group(self, name):
        try:
            grp.getgrnam(name)
        except KeyError:
            self.changed("group " + name, lambda: self.command("groupadd", "--system", name))

    def user(self, name, home):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            self.changed("user " + name, lambda: self.command(
                "useradd", "--system", "--gid", name, "--shell", NOLOGIN, "--home-dir", home, "--no-create-home", name))
            return
        gid = grp.getgrnam(name).gr_gid if self.has_group(name) else None
        if (entry.pw_gid, entry.pw_shell, entry.pw_dir) != (gid, NOLOGIN, home):
            self.changed("user " + name, lambda: self.command(
                "usermod", "--gid", name, "--shell", NOLOGIN, "--home", home, name))

    @staticmethod
    def has_group(name):
        try:
            grp.getgrnam(name)
            return True
        except KeyError:
            return False

    def folder(self, path, mode, owner, group):
        want_mode = int(str(mode), 8)
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            self.changed("folder " + path, lambda: self.make(path, want_mode, owner, group))
            return
        if self.module.check_mode and not self.has_group(group):
            self.changed("folder " + path)
            return
        want = (pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid, want_mode)
        if (stat.st_uid, stat.st_gid, stat.st_mode & 0o7777) != want:
            self.changed("folder " + path, lambda: self.make(path, want_mode, owner, group))

    @staticmethod
    def make(path, mode, owner, group):
        os.makedirs(path, mode, exist_ok=True)
        os.chown(path, pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid)
        os.chmod(path, mode)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            claim=dict(type="dict", required=True),
            claims_dir=dict(type="path", default="/etc/asgi-deploy/apps"),
            socket_group=dict(type="str", required=True),
            home=dict(type="path", required=True),
            folders=dict(type="list", elements="dict", default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    base = Base(module)
    base.folder(params["claims_dir"], "0755", "root", "root")
    base.claim(params["claims_dir"], params["name"], params["claim"])
    for group in (params["name"], params["socket_group"]):
        base.group(group)
    base.user(params["name"], params["home"])
    for entry in params["folders"]:
        base.folder(entry["path"], entry.get("mode", "0755"), entry.get("owner", "root"), entry.get("group", "root"))
    module.exit_json(changed=bool(base.done), done=base.done)


if __name__ == "__main__":
    main()
