# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The source_archive action's work, on the controller: a reproducible archive of an app's source."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import tempfile
import time

from ansible_collections.asgi.deploy.plugins.module_utils.source import source_entries


def build_archive(src, entries):
    """Return the archive's bytes: fixed owners and times, so only content counts."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in entries:
            info = tar.gettarinfo(os.path.join(src, rel), arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = 0
            info.pax_headers = {}
            if info.isreg():
                with open(os.path.join(src, rel), "rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


# Archives younger than this are never pruned: a run deploying another
# source of the same app from this controller may still have to copy one.
IN_USE_SECONDS = 3600


def prune(dest, keep, current, now=None):
    now = time.time() if now is None else now
    archives = sorted(((os.path.getmtime(os.path.join(dest, name)), os.path.join(dest, name))
                       for name in os.listdir(dest) if name.endswith(".tar.gz")), reverse=True)
    for mtime, path in archives[keep:]:
        if path != current and now - mtime > IN_USE_SECONDS:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass  # another run pruned it first


ARGUMENT_SPEC = dict(
    src=dict(type="path", required=True),
    dest=dict(type="path", required=True),
    exclude=dict(type="list", elements="str", default=[
        ".git", ".hg", ".svn", ".venv", "venv", "__pycache__", "*.pyc",
        ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", "node_modules",
        "*.egg-info"]),
    keep=dict(type="int", default=5),
)


def pack(src, dest, exclude, keep, check_mode=False):
    """Write src's archive into dest (not in check mode); the source_archive action's result. ValueError names a
    bad input."""
    if not os.path.isdir(src):
        raise ValueError("source_archive: src %s is not a folder on the controller" % src)
    if keep < 1:
        raise ValueError("source_archive: keep must be 1 or more, got %d" % keep)
    entries = source_entries(src, exclude)
    files = sum(1 for rel in entries if os.path.isfile(os.path.join(src, rel)))
    if files == 0:
        raise ValueError("source_archive: src %s has no files to deploy" % src)
    data = build_archive(src, entries)
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(dest, digest[:12] + ".tar.gz")

    changed = not os.path.exists(path)
    if changed and not check_mode:
        os.makedirs(dest, exist_ok=True)
        # A name of its own: two runs may write the same archive at once.
        handle, partial = tempfile.mkstemp(dir=dest, prefix=".", suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(partial, 0o644)
        os.replace(partial, path)
    if not check_mode:
        os.utime(path)
        prune(dest, keep, path)
    return dict(changed=changed, digest=digest, path=path, files=files)
