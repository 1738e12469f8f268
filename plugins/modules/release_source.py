#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: release_source
short_description: Unpack an app's source archive into a new release folder, in one call
version_added: 0.6.0
description:
  - Creates the release folder O(path), clear of what an interrupted build
    left in it, and unpacks the archive into its C(app) folder.
  - With O(src) on the controller (the action), the archive is copied to the
    host first, as M(ansible.builtin.unarchive) does; one task for what were
    a folder task and an unpack task.
  - Members of the archive that would land outside C(app) (absolute paths,
    C(..), links pointing out of it, devices) are refused before anything is
    written.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  src:
    description:
      - The archive on the controller, as M(asgi.deploy.source_archive) wrote
        it (a gzip-compressed tar). The action copies it to the host and gives
        the module the copy.
    type: path
    required: true
  path:
    description: The release folder; removed first when it is there.
    type: path
    required: true
extends_documentation_fragment:
  - asgi.deploy.attributes
attributes:
  action:
    description: Copies O(src) from the controller, then unpacks it on the host.
    support: full
  check_mode:
    description: Unpacks nothing; skipped in check mode.
    support: none
"""

EXAMPLES = r"""
- name: Unpack the source into the release's folder
  asgi.deploy.release_source:
    src: "{{ archive.path }}"
    path: /opt/myapp/releases/3f2a9c1b7d4e
"""

RETURN = r"""
files:
  description: Number of files unpacked.
  returned: success
  type: int
  sample: 14
"""

import os
import shutil
import tarfile

from ansible.module_utils.basic import AnsibleModule


def unsafe(member, root):
    """Why member may not be unpacked under root, or None."""
    target = os.path.realpath(os.path.join(root, member.name))
    if os.path.isabs(member.name) or os.path.commonpath([root, target]) != root:
        return "its path leaves the app folder"
    if member.islnk() or member.issym():
        pointed = os.path.realpath(os.path.join(os.path.dirname(target), member.linkname)
                                   if member.issym() else os.path.join(root, member.linkname))
        if os.path.commonpath([root, pointed]) != root:
            return "it links out of the app folder"
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        return "it is not a file, folder or link"
    return None


# Every member was checked above; Pythons with extraction filters (3.12, and
# 3.11's later releases) warn when none is named.
TRUSTED = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}


def unpack(archive, path):
    """Return the number of files unpacked into path/app, path made afresh. ValueError names a refused member."""
    app = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path), "app")
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        for member in members:
            why = unsafe(member, app)
            if why:
                raise ValueError("%s in %s is refused: %s" % (member.name, archive, why))
        if os.path.lexists(path):
            shutil.rmtree(path)
        os.makedirs(app, mode=0o755)
        os.chmod(path, 0o755)
        os.chmod(app, 0o755)
        tar.extractall(app, members=members, numeric_owner=True, **TRUSTED)
    return sum(1 for member in members if member.isfile())


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            path=dict(type="path", required=True),
        ),
        supports_check_mode=False,
    )
    try:
        files = unpack(module.params["src"], module.params["path"])
    except (OSError, tarfile.TarError, ValueError) as error:
        module.fail_json(msg="release_source: %s" % error)
    module.exit_json(changed=True, files=files)


if __name__ == "__main__":
    main()
