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
  - An action that runs on the controller only, in the process that runs the
    task; nothing reaches the host.
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
  action:
    description: Runs on the controller, in the process that runs the task.
    support: full
  check_mode:
    description: Computes the digest without writing the archive.
    support: full
"""

EXAMPLES = r"""
- name: Pack the app on the controller
  asgi.deploy.source_archive:
    src: "{{ playbook_dir }}/app"
    dest: "{{ lookup('env', 'HOME') }}/.cache/asgi-deploy/myapp"
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
