#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: source_archive
short_description: Pack an application's source folder into a reproducible archive
version_added: 0.1.0
description:
  - Packs a source folder into a gzip-compressed tar whose bytes depend only on
    the files' paths, contents and modes, so unchanged source gives the same
    archive and the same digest on every run and every controller.
  - The digest names the release, which keeps re-runs with unchanged source
    from creating a new release, and gives every host of one run the same one.
  - "Run it on the controller: C(delegate_to: localhost)."
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  src:
    description: The source folder.
    type: path
    required: true
  dest:
    description:
      - Folder for the archive, created when missing. The archive is written as
        C(<digest>.tar.gz); one that exists already is reused.
    type: path
    required: true
  exclude:
    description:
      - Names (shell patterns) of files and folders left out, matched against
        every path component.
    type: list
    elements: str
    default: [".git", ".hg", ".svn", ".venv", "venv", "__pycache__", "*.pyc",
              ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", "node_modules", "*.egg-info"]
  keep:
    description:
      - How many archives to keep in O(dest), newest first; older ones are
        removed, but none written or used in the last hour, which another run
        on this controller may be about to copy.
    type: int
    default: 5
extends_documentation_fragment:
  - asgi.deploy.attributes
attributes:
  check_mode:
    description: Computes the digest without writing the archive.
    support: full
"""

EXAMPLES = r"""
- name: Pack the app on the controller
  asgi.deploy.source_archive:
    src: "{{ playbook_dir }}/app"
    dest: "{{ lookup('env', 'HOME') }}/.cache/asgi-deploy/myapp"
  delegate_to: localhost
  run_once: true
  register: app_archive
"""

RETURN = r"""
digest:
  description: SHA-256 of the archive's bytes.
  returned: always
  type: str
  sample: 5c0b1a3e9d0f4b7e8a2c6d1f3e5a7b9c0d2e4f6a8b0c1d3e5f7a9b1c3d5e7f9a
path:
  description: Path of the archive on the machine that ran the module.
  returned: always
  type: str
  sample: /root/.cache/asgi-deploy/myapp/5c0b1a3e9d0f.tar.gz
files:
  description: Number of files packed.
  returned: always
  type: int
  sample: 14
"""

import gzip
import hashlib
import io
import os
import tarfile
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.asgi.deploy.plugins.module_utils.source import source_entries


def build_archive(src, entries):
    """Return the archive's bytes: fixed owners and times, so only content counts."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in entries:
            info = tar.gettarinfo(os.path.join(src, rel), arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = 0
            info.pax_headers = {}
            if info.isreg():
                with open(os.path.join(src, rel), "rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


# Archives younger than this are never pruned: a run deploying another
# source of the same app from this controller may still have to copy one.
IN_USE_SECONDS = 3600


def prune(dest, keep, current, now=None):
    now = time.time() if now is None else now
    archives = sorted(((os.path.getmtime(os.path.join(dest, name)), os.path.join(dest, name))
                       for name in os.listdir(dest) if name.endswith(".tar.gz")), reverse=True)
    for mtime, path in archives[keep:]:
        if path != current and now - mtime > IN_USE_SECONDS:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass  # another run pruned it first


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            dest=dict(type="path", required=True),
            exclude=dict(type="list", elements="str", default=[
                ".git", ".hg", ".svn", ".venv", "venv", "__pycache__", "*.pyc",
                ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", "node_modules",
                "*.egg-info"]),
            keep=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    src, dest = module.params["src"], module.params["dest"]
    if not os.path.isdir(src):
        module.fail_json(msg="source_archive: src %s is not a folder on the controller" % src)
    if module.params["keep"] < 1:
        module.fail_json(msg="source_archive: keep must be 1 or more, got %d" % module.params["keep"])

    entries = source_entries(src, module.params["exclude"])
    files = sum(1 for rel in entries if os.path.isfile(os.path.join(src, rel)))
    if files == 0:
        module.fail_json(msg="source_archive: src %s has no files to deploy" % src)
    data = build_archive(src, entries)
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(dest, digest[:12] + ".tar.gz")

    changed = not os.path.exists(path)
    if changed and not module.check_mode:
        os.makedirs(dest, exist_ok=True)
        # A name of its own: two runs may write the same archive at once.
        handle, partial = tempfile.mkstemp(dir=dest, prefix=".", suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(partial, 0o644)
        os.replace(partial, path)
    if not module.check_mode:
        os.utime(path)
        prune(dest, module.params["keep"], path)
    module.exit_json(changed=changed, digest=digest, path=path, files=files)


if __name__ == "__main__":
    main()
