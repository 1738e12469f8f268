# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads the app's lock on the controller (see plugins/modules/dependency_lock.py)."""

from __future__ import annotations

import os
import sys

from ansible.module_utils.common.process import get_bin_path
from ansible_collections.asgi.deploy.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.asgi.deploy.plugins.plugin_utils.dependency_lock import ARGUMENT_SPEC, read_lock


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def work(self, args, check_mode):
        try:
            # uv installed with pip beside Ansible sits next to its Python.
            uv = get_bin_path("uv", opt_dirs=[os.path.dirname(sys.executable)])
        except ValueError:
            uv = None
        # A LockError is a ValueError: the action fails with its message.
        return dict(changed=False, **read_lock(args["src"], args["subdir"], args["mode"],
                                               args["requirements_file"], args["pythons"], uv))
