# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An action whose work is on the controller's files, done in the process that runs the task: a module delegated
to localhost would start a Python of its own for it, about 0.35 s a task."""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ControllerAction(ActionBase):
    """Subclasses set ARGUMENT_SPEC and work(args, check_mode), which returns the result or raises ValueError."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    ARGUMENT_SPEC = {}

    def work(self, args, check_mode):
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        # Raises, naming the option, on bad input.
        _validation, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        try:
            result.update(self.work(args, self._task.check_mode))
        except ValueError as exc:
            result.update(failed=True, msg=str(exc))
        return result
