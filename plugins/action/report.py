# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prints lines for the operator as they are (see plugins/modules/report.py)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()


class ActionModule(ActionBase):
    """Runs on the controller only: nothing is sent to the host."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("lines", "warn"))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        lines = self._task.args.get("lines")
        if isinstance(lines, str):
            lines = lines.splitlines()
        if not isinstance(lines, list):
            raise AnsibleActionFail("report: lines must be a list of lines or a text, got %s" % type(lines).__name__)
        lines = [to_text(line) for line in lines]
        if boolean(self._task.args.get("warn", False), strict=False):
            display.warning("\n".join(lines), formatted=True)
        else:
            display.display("\n".join(lines))
        result.update(changed=False, lines=lines)
        return result
