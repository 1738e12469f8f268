# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What of an app's source folder counts: every path under it but those
app_src_exclude leaves out. The source_archive module packs them; the
deploy_inputs lookup fingerprints them."""

from __future__ import annotations

import fnmatch
import os


def source_entries(src, exclude):
    """Sorted relative paths under src, leaving out excluded components."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames
                             if not any(fnmatch.fnmatch(d, p) for p in exclude))
        rel_dir = os.path.relpath(dirpath, src)
        for name in sorted(filenames + [d for d in dirnames
                                        if os.path.islink(os.path.join(dirpath, d))]):
            if any(fnmatch.fnmatch(name, p) for p in exclude):
                continue
            entries.append(os.path.normpath(os.path.join(rel_dir, name)))
        if rel_dir != ".":
            entries.append(rel_dir)
    return sorted(set(entries))
