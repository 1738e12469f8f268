#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: files
short_description: Several small files and folders, from content given, in one call
version_added: 0.6.0
description:
  - Removes the paths of O(absent), makes the folders of O(folders) (each
    holding exactly the files it lists, when it lists any), then writes the
    files of O(files) in order. Each file is written only where its content,
    owner, group or mode differ, through a temporary file in its folder that
    is checked by its validator, if it has one, and then renamed into place.
  - One call instead of a task per file, each of which costs a round trip to
    the host.
  - Content is never logged by the module; a task that writes secrets sets
    C(no_log) so that it stays out of Ansible's output too. A file marked
    C(secret) shows no content in a diff.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  absent:
    description: Paths removed first, folders with what they hold.
    type: list
    elements: path
    default: []
  folders:
    description:
      - Folders to make, each with C(path), C(mode), and optionally C(owner)
        and C(group) (root by default).
      - With C(files) (a dict of name to content) the folder holds exactly
        those files, each the folder's owner and group with mode C(file_mode)
        (default C(0640)), and nothing else. Their content counts as secret.
    type: list
    elements: dict
    default: []
  files:
    description:
      - Files to write, in order, each with C(path) and C(content), and
        optionally C(owner) and C(group) (root by default), C(mode) (default
        C(0644)), C(validate) (a command in which C(%s) is the temporary
        file), C(secret) (no content in the diff) and C(backup) (keep a copy
        of the file it replaces, named in RV(backups)).
    type: list
    elements: dict
    default: []
extends_documentation_fragment:
  - asgi.deploy.attributes
attributes:
  diff_mode:
    description: Shows each changed file's content before and after, but not a secret one's.
    support: full
"""

EXAMPLES = r"""
- name: Write a release's markers
  asgi.deploy.files:
    files:
      - {path: /opt/shop/releases/3f2a/release.env, content: "ASGI_DEPLOY_RELEASE=3f2a\n"}
      - {path: /opt/shop/releases/3f2a/.asgi-deploy-complete, content: "3f2a\n"}

- name: Write a slot's environment and secret files
  asgi.deploy.files:
    folders:
      - {path: /etc/shop/credentials/blue, mode: "0750", group: shop, files: {token: "s3cret"}}
    files:
      - {path: /etc/shop/blue.env, content: "DEBUG=0\n", group: shop, mode: "0640", secret: true}
  no_log: true
"""

RETURN = r"""
done:
  description: The paths changed (or that would be, in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: ["/etc/shop/credentials/blue", "/etc/shop/credentials/blue/token", "/etc/shop/blue.env"]
backups:
  description: For each file written with C(backup) over an earlier one, the copy of that earlier one.
  returned: always
  type: dict
  sample: {"/etc/systemd/system/shop-tcp.socket": "/etc/systemd/system/shop-tcp.socket.2026-12-03@08:10:02~"}
"""

import grp
import os
import pwd
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule


class Files(object):
    def __init__(self, module):
        self.module, self.done, self.diffs, self.backups = module, [], [], {}

    def act(self, path, action):
        self.done.append(path)
        if not self.module.check_mode:
            action()

    @staticmethod
    def ids(owner, group):
        return pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid

    def same_attributes(self, stat, owner, group, mode):
        try:
            uid, gid = self.ids(owner, group)
        except KeyError:
            # Check mode before the app's group exists: it would be made.
            return False
        return (stat.st_uid, stat.st_gid, stat.st_mode & 0o7777) == (uid, gid, mode)

    def remove(self, path):
        if os.path.isdir(path) and not os.path.islink(path):
            self.act(path, lambda: shutil.rmtree(path))
        elif os.path.lexists(path):
            self.act(path, lambda: os.unlink(path))

    def folder(self, entry):
        path = entry["path"]
        owner, group = entry.get("owner", "root"), entry.get("group", "root")
        mode = int(str(entry.get("mode", "0755")), 8)
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            stat = None
        if stat is None or not self.same_attributes(stat, owner, group, mode):
            self.act(path, lambda: self.make_folder(path, owner, group, mode))
        if "files" not in entry:
            return
        wanted = entry["files"] or {}
        if stat is not None:
            for name in sorted(set(os.listdir(path)) - set(wanted)):
                self.remove(os.path.join(path, name))
        for name in sorted(wanted):
            self.file({"path": os.path.join(path, name), "content": wanted[name], "owner": owner, "group": group,
                       "mode": entry.get("file_mode", "0640"), "secret": True})

    def make_folder(self, path, owner, group, mode):
        os.makedirs(path, mode, exist_ok=True)
        os.chown(path, *self.ids(owner, group))
        os.chmod(path, mode)

    def file(self, entry):
        path, content = entry["path"], entry["content"]
        owner, group = entry.get("owner", "root"), entry.get("group", "root")
        mode = int(str(entry.get("mode", "0644")), 8)
        try:
            stat = os.stat(path)
            with open(path) as handle:
                before = handle.read()
        except (FileNotFoundError, UnicodeDecodeError):
            stat, before = None, None
        if before == content and self.same_attributes(stat, owner, group, mode):
            return
        if self.module._diff:
            secret = entry.get("secret", False)
            self.diffs.append({"before_header": path, "after_header": path,
                               "before": "" if secret or before is None else before,
                               "after": "(secret content)\n" if secret else content})
        if before == content:
            self.act(path, lambda: (os.chown(path, *self.ids(owner, group)), os.chmod(path, mode)))
        else:
            self.act(path, lambda: self.write(path, content, owner, group, mode, entry.get("validate"),
                                              entry.get("backup") and before is not None))

    def write(self, path, content, owner, group, mode, validate, backup=False):
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".asgi-")
        try:
            with os.fdopen(handle, "w") as out:
                out.write(content)
            os.chown(temporary, *self.ids(owner, group))
            os.chmod(temporary, mode)
            if validate:
                rc, out, err = self.module.run_command(validate % temporary)
                if rc != 0:
                    self.module.fail_json(msg="%s failed its check (%s): %s" % (path, validate, (err or out).strip()),
                                          done=self.done)
            if backup:
                self.backups[path] = "%s.%s~" % (path, time.strftime("%Y-%m-%d@%H:%M:%S"))
                shutil.copy2(path, self.backups[path])
            os.rename(temporary, path)
        finally:
            if os.path.lexists(temporary):
                os.unlink(temporary)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            absent=dict(type="list", elements="path", default=[]),
            folders=dict(type="list", elements="dict", default=[]),
            files=dict(type="list", elements="dict", default=[]),
        ),
        supports_check_mode=True,
    )
    files = Files(module)
    for path in module.params["absent"]:
        files.remove(path)
    for entry in module.params["folders"]:
        files.folder(entry)
    for entry in module.params["files"]:
        files.file(entry)
    result = dict(changed=bool(files.done), done=files.done, backups=files.backups)
    if module._diff:
        result["diff"] = files.diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
