# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: bad_env_keys
short_description: Keys of an environment mapping that a systemd environment file cannot hold
version_added: 0.1.0
description:
  - Returns the keys whose name is not a variable name (letters, digits and
    C(_), not starting with a digit) or is one the collection sets itself
    (C(ASGI_DEPLOY_*)), whose value spans lines or is a mapping or a list
    (it would reach the app as Python's repr, not as JSON), and, with
    O(allow_empty=false), whose value is empty.
  - Only keys are returned, so the result can be shown even when the values
    are secrets.
positional: _input
options:
  _input:
    description: The environment, variable name to value.
    type: dict
    required: true
  allow_empty:
    description: Whether an empty value is acceptable.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Refuse a secret left empty, naming it but not showing any value
  ansible.builtin.assert:
    that: app_secret_env | asgi.deploy.bad_env_keys(allow_empty=false) | length == 0
"""

RETURN = r"""
_value:
  description: The refused keys, sorted.
  type: list
  elements: str
"""

import re

from ansible.errors import AnsibleFilterError

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The names the app role sets for the app: the release, the worker count.
RESERVED = "ASGI_DEPLOY_"


def bad_env_keys(env, allow_empty=True):
    if not isinstance(env, dict):
        raise AnsibleFilterError("bad_env_keys: expects a dict, got %s" % type(env).__name__)
    refused = []
    for key, value in env.items():
        text = "" if value is None else str(value)
        if not NAME.match(str(key)) or str(key).startswith(RESERVED) or isinstance(value, (dict, list)) \
                or "\n" in text or "\r" in text or (not allow_empty and text == ""):
            refused.append(str(key))
    return sorted(refused)


class FilterModule(object):
    """asgi.deploy environment checks."""

    def filters(self):
        return {"bad_env_keys": bad_env_keys}
