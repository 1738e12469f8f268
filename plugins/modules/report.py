#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: report
short_description: Print lines for the operator, as they are
version_added: 0.6.0
description:
  - Prints O(lines) on the controller's output, each as a line of its own -
    a table stays a table - instead of the JSON of a task result, in which
    M(ansible.builtin.debug) shows a list of lines as quoted strings.
  - An action that runs on the controller only; nothing reaches the host.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  lines:
    description: The lines, as a list or as one text of several lines.
    type: raw
    required: true
  warn:
    description: Print them as a warning, which the run's output and its end show apart.
    type: bool
    default: false
extends_documentation_fragment:
  - asgi.deploy.attributes
attributes:
  action:
    description: Runs on the controller.
    support: full
  check_mode:
    description: Prints the same in check mode.
    support: full
  platform:
    description: Any controller.
    support: full
    platforms: all
"""

EXAMPLES = r"""
- name: Print the status table
  asgi.deploy.report:
    lines: "{{ statuses | asgi.deploy.status_table(name='shop') }}"
"""

RETURN = r"""
lines:
  description: The lines printed.
  returned: always
  type: list
  elements: str
"""
