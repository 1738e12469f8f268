#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dependency_lock
short_description: Find an app's lock file and turn it into pinned requirements
version_added: 0.2.0
description:
  - Looks for the lock of the app in O(src)/O(subdir), then in each enclosing
    folder up to O(src) (a workspace member's lock sits at the workspace root),
    taking the nearest, and in each folder in this order - C(uv.lock),
    C(poetry.lock), C(pylock.toml) (PEP 751), and in the app folder a
    requirements file whose every requirement is pinned with C(==) and
    carries its hashes. A requirements file without them may pin only the
    app's own dependencies; it is not a lock, and is resolved instead.
  - Returns the locked set as requirements that pin every package and carry
    the lock's hashes, so every host installs exactly what was tested.
  - C(uv.lock) is read with C(uv export --locked --offline) on the controller,
    which fails when the lock no longer matches its C(pyproject.toml).
    C(poetry.lock) takes the main group. Other sources of a package than an
    index, a git repository or a URL are refused.
  - Refuses a C(poetry.lock) whose content-hash no longer matches its
    C(pyproject.toml), as C(poetry check --lock) does.
  - Also checks the app's C(requires-python) against each host's Python.
  - An action that runs on the controller only, in the process that runs the
    task; nothing reaches the host.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  src:
    description: The app's source folder (or repository) on the controller.
    type: path
    required: true
  subdir:
    description: The app's folder inside O(src).
    type: str
    default: ""
  mode:
    description:
      - C(auto) uses a lock when there is one; C(none) ignores locks;
        C(required) fails when there is none.
    type: str
    choices: [auto, none, required]
    default: auto
  requirements_file:
    description: The requirements file, relative to the app folder; a lock when every line is pinned with its hashes.
    type: str
    default: requirements.txt
  pythons:
    description: Each host's name and its Python version (C(3.11.2)), checked against C(requires-python).
    type: dict
    default: {}
extends_documentation_fragment:
  - asgi.deploy.attributes.read_only
attributes:
  action:
    description: Runs on the controller, in the process that runs the task.
    support: full
requirements:
  - uv on the controller, for apps locked with C(uv.lock) (C(pip install uv) beside Ansible)
"""

EXAMPLES = r"""
- name: Read the app's lock
  asgi.deploy.dependency_lock:
    src: /home/me/src/shop
    subdir: backend
    pythons: {web1: "3.11.2"}
  run_once: true
  register: lock
"""

RETURN = r"""
kind:
  description: C(uv.lock), C(poetry.lock), C(pylock.toml), C(requirements) or C(none).
  returned: always
  type: str
  sample: uv.lock
path:
  description: The lock file, relative to O(src); empty without one.
  returned: always
  type: str
  sample: uv.lock
requirements:
  description: The locked set as pinned requirements with hashes; empty without a lock.
  returned: always
  type: str
  sample: "anyio==4.8.0 --hash=sha256:1d9f..."
digest:
  description: SHA-256 of RV(requirements).
  returned: always
  type: str
  sample: 9f2c1a...
project_file:
  description: C(pyproject.toml) or C(setup.py) when the app folder is a project to install, else empty.
  returned: always
  type: str
  sample: pyproject.toml
project:
  description: The project's name in its pyproject.toml, empty without one.
  returned: always
  type: str
  sample: shop
has_requirements:
  description: Whether the app folder has O(requirements_file).
  returned: always
  type: bool
  sample: false
requires_python:
  description: The app's requires-python, empty when it says none.
  returned: always
  type: str
  sample: ">=3.10"
"""
