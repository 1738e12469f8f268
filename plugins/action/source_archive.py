# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Packs the source on the controller (see plugins/modules/source_archive.py)."""

from __future__ import annotations

from ansible_collections.asgi.deploy.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.asgi.deploy.plugins.plugin_utils.source_archive import ARGUMENT_SPEC, pack


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def work(self, args, check_mode):
        return pack(args["src"], args["dest"], args["exclude"], args["keep"], check_mode=check_mode)
