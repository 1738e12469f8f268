# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copies the source archive to the host, then unpacks it there (see plugins/modules/release_source.py)."""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):

    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=dict(
            src=dict(type="path", required=True), path=dict(type="path", required=True)))
        shell = self._connection._shell
        try:
            copy = shell.join_path(shell.tmpdir, "source.tar.gz")
            self._transfer_file(args["src"], copy)
            self._fixup_perms2((shell.tmpdir, copy))
            result.update(self._execute_module(module_name="asgi.deploy.release_source",
                                               module_args=dict(src=copy, path=args["path"]), task_vars=task_vars))
        finally:
            self._remove_tmp_path(shell.tmpdir)
        return result
