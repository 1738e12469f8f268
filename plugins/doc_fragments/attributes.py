# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The attributes the collection's modules share; a module states its own
    only where it differs (its keys win over the fragment's)."""

    # A module that acts on the host and, in check mode, says what it would do.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Says what it would change, and changes nothing.
    support: full
  diff_mode:
    description: Nothing to diff.
    support: none
"""

    # A module that only reads: the same result in check mode.
    READ_ONLY = r"""
attributes:
  check_mode:
    description: Reads only, the same in check mode.
    support: full
  diff_mode:
    description: Nothing to diff.
    support: none
"""
