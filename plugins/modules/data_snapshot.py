#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, asgi.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: data_snapshot
short_description: Snapshot an app's data before a migration, or restore such a snapshot
version_added: 0.2.0
description:
  - With O(state=present), takes one snapshot into O(path)/O(name) of what this
    host keeps of the app's data - SQLite files (O(sqlite), with SQLite's online
    backup, consistent while the app writes), a PostgreSQL database
    (O(postgresql), C(pg_dump --format=custom) as the C(postgres) user) and the
    standard output of a command (O(command)) - then keeps the newest O(keep)
    snapshots. A folder becomes a snapshot only once every part is written
    (C(manifest.json) last, then a rename), so a failed or killed snapshot
    leaves nothing that a restore could mistake for one.
  - Before writing, checks that the folder's file system has room for the
    data's present size plus a tenth and O(margin_mb); refuses otherwise.
  - With O(state=restored), puts a snapshot back - the SQLite files with their
    owner and mode, the database dropped and re-created from the dump, the
    command's output fed to O(restore_command). The app must be stopped. In
    check mode only checks that the snapshot is whole (every part's digest).
  - With O(state=listed), only lists the snapshots. Every state returns that
    list, oldest first.
author:
  - asgi.deploy contributors (@asgi-deploy)
options:
  path:
    description: The app's snapshot folder on this host, created (mode 0700) when missing.
    type: path
    required: true
  state:
    description: C(present) takes a snapshot, C(restored) puts one back, C(listed) changes nothing.
    type: str
    choices: [present, restored, listed]
    default: present
  name:
    description:
      - With O(state=present), the snapshot's name, the same on every host of one deploy.
      - With O(state=restored), a snapshot's name, or a release id - the newest snapshot taken before it.
      - Required unless O(state=listed).
    type: str
    default: ""
  release:
    description: With O(state=present), the release whose migration the snapshot is taken before.
    type: str
    default: ""
  serving:
    description: The release serving when the snapshot is taken; a restore switches the code back to it.
    type: str
    default: ""
  sqlite:
    description: Absolute paths of SQLite databases. A file that does not exist yet is recorded as absent.
    type: list
    elements: path
    default: []
  sqlite_search:
    description:
      - With O(state=present), folders searched, with their sub-folders, for
        SQLite databases (by the file's header, C(SQLite format 3)), taken as
        those of O(sqlite) are. An app's state folder, so that an app that
        names no database still has its data in the snapshot.
    type: list
    elements: path
    default: []
  tree:
    description:
      - With O(state=present), a folder kept whole as a C(tar.gz) (an app's
        uploads beside its databases), with owners and modes; the SQLite
        databases of O(sqlite) are left out of it (they are taken apart,
        consistently). A restore empties the folder but for those databases
        and unpacks it. Empty for none.
    type: path
    default: ""
  postgresql:
    description: The database to dump, as C(database) and C(port). Empty for none.
    type: dict
    default: {}
  command:
    description: A command (argv) whose standard output is part of the snapshot. Empty for none.
    type: list
    elements: str
    default: []
  restore_command:
    description: A command (argv) that is given that output on its standard input to restore it.
    type: list
    elements: str
    default: []
  keep:
    description: How many snapshots to keep, this one included.
    type: int
    default: 5
  margin_mb:
    description: Free space, in MiB, the file system must keep beyond the snapshot's estimated size.
    type: int
    default: 64
extends_documentation_fragment:
  - asgi.deploy.attributes
"""

EXAMPLES = r"""
- name: Snapshot the SQLite database before the migration of release 20261201-ab12cd
  asgi.deploy.data_snapshot:
    path: /var/backups/asgi-deploy/example
    name: 20261201T101500Z-20261201-ab12cd
    release: 20261201-ab12cd
    serving: 20261130-ef34ab
    sqlite: [/var/lib/example/example.db]
    keep: 5

- name: Restore the newest snapshot taken before that release
  asgi.deploy.data_snapshot:
    path: /var/backups/asgi-deploy/example
    state: restored
    name: 20261201-ab12cd
"""

RETURN = r"""
snapshot:
  description:
    - The snapshot taken, checked or restored (its manifest), or null.
    - In check mode, the one that would be taken - its name, C(check=true) and
      its parts, each sized as the data is now - and nothing is written.
  returned: always
  type: dict
  sample: {name: 20261201T101500Z-20261201-ab12cd, release: 20261201-ab12cd, serving: 20261130-ef34ab,
           taken: "2026-12-01T10:15:00Z", bytes: 20480, seconds: 0.02,
           parts: [{kind: sqlite, source: /var/lib/example/example.db, file: sqlite-0-example.db,
                    bytes: 20480, seconds: 0.02, sha256: "9f86...", uid: 998, gid: 998, mode: "0640"}]}
available:
  description: The snapshots on this host, oldest first, each as name, release, serving, taken and bytes.
  returned: always
  type: list
  elements: dict
report:
  description: One line per part of RV(snapshot) - what, how big, how long - for the deploy's output.
  returned: always
  type: list
  elements: str
  sample: ["sqlite /var/lib/example/example.db: 20.0 KiB in 0.02 s"]
removed:
  description: The snapshots removed to keep O(keep).
  returned: always
  type: list
  elements: str
free_bytes:
  description: Free space in O(path) before the snapshot.
  returned: when O(state=present)
  type: int
needed_bytes:
  description: The space the snapshot was checked against (its estimate plus the margin).
  returned: when O(state=present)
  type: int
"""

import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import subprocess
import time
import urllib.parse

from ansible.module_utils.basic import AnsibleModule

MANIFEST = "manifest.json"
PARTIAL = ".partial-"
MIB = 1024 * 1024


class SnapshotError(Exception):
    pass


def digest(path):
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(MIB), b""):
            sha.update(block)
    return sha.hexdigest()


def read_manifest(folder):
    try:
        with open(os.path.join(folder, MANIFEST)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def snapshots(path):
    """Whole snapshots in path, oldest first (names start with the UTC time)."""
    found = []
    for name in sorted(os.listdir(path)) if os.path.isdir(path) else []:
        manifest = None if name.startswith(PARTIAL) else read_manifest(os.path.join(path, name))
        if manifest is not None:
            found.append(manifest)
    return found


def summary(manifest):
    return {key: manifest.get(key) for key in ("name", "release", "serving", "taken", "bytes")}


def run(argv, what, **kwargs):
    """Run argv; its stderr is the error when it fails."""
    try:
        done = subprocess.run(argv, stderr=subprocess.PIPE, check=False, cwd="/", **kwargs)
    except OSError as error:
        raise SnapshotError("%s: %s" % (what, error)) from None
    if done.returncode != 0:
        raise SnapshotError("%s failed (exit %d): %s" % (what, done.returncode,
                                                         done.stderr.decode(errors="replace").strip()[-2000:]))
    return done


def pg_sql(postgresql, sql, variables):
    """One psql query as the postgres user, its variables quoted by psql."""
    argv = ["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "--port", str(postgresql.get("port", 5432)), "--dbname", "postgres"]
    for key, value in variables.items():
        argv += ["-v", "%s=%s" % (key, value)]
    done = run(argv, "psql", input=sql.encode(), stdout=subprocess.PIPE, user="postgres")
    return done.stdout.decode().strip()


SQLITE_HEADER = b"SQLite format 3\x00"


def find_sqlite(folders):
    """Absolute paths of the SQLite databases under folders, by their header,
    sorted; the journal, WAL and shared-memory files beside them are not."""
    found = []
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(root, name)
                try:
                    with open(path, "rb") as handle:
                        if handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER and not os.path.islink(path):
                            found.append(path)
                except OSError:
                    continue
    return found


SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


def tree_members(folder, databases):
    """Relative paths of everything under folder but the databases and their side files."""
    skip = {path + suffix for path in databases for suffix in SQLITE_SIDE_FILES}
    members = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(dirs) + sorted(files):
            path = os.path.join(root, name)
            if path not in skip:
                members.append(os.path.relpath(path, folder))
    return members


def estimate(params, previous):
    """Bytes the snapshot will take, from what the data takes now."""
    size = 0
    if params["tree"]:
        for relative in tree_members(params["tree"], params["sqlite"]):
            path = os.path.join(params["tree"], relative)
            size += os.path.getsize(path) if os.path.isfile(path) and not os.path.islink(path) else 0
    for path in params["sqlite"]:
        for name in (path, path + "-wal"):
            if os.path.exists(name):
                size += os.path.getsize(name)
    if params["postgresql"]:
        size += int(pg_sql(params["postgresql"], "SELECT pg_database_size(:'db')",
                           {"db": params["postgresql"]["database"]}) or 0)
    if params["command"] and previous:
        # A command's output has no size before it runs: the last one's.
        size += sum(p["bytes"] for p in previous[-1].get("parts", []) if p["kind"] == "command")
    return size


def uri(path, mode):
    return "file:%s?mode=%s" % (urllib.parse.quote(path), mode)


def sqlite_backup(source, target):
    # mode=rw: a missing file is an error here, not a new empty database. As
    # root SQLite gives any journal file it creates the database's owner.
    src = sqlite3.connect(uri(source, "rw"), uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def take_part(kind, source, target, params):
    """Write one part to target; return what the manifest says of it."""
    started = time.monotonic()
    part = {"kind": kind, "source": source, "file": os.path.basename(target)}
    if kind == "sqlite":
        if not os.path.exists(source):
            part.update(absent=True, file=None, bytes=0, seconds=0.0, sha256=None)
            return part
        info = os.stat(source)
        try:
            sqlite_backup(source, target)
        except sqlite3.Error as error:
            raise SnapshotError("SQLite backup of %s: %s" % (source, error)) from None
        part.update(uid=info.st_uid, gid=info.st_gid, mode="%04o" % (info.st_mode & 0o7777))
    elif kind == "tree":
        with tarfile.open(target, "w:gz") as archive:
            for relative in tree_members(source, params["sqlite"]):
                archive.add(os.path.join(source, relative), arcname=relative, recursive=False)
    else:
        with open(target, "wb") as out:
            if kind == "postgresql":
                db = params["postgresql"]
                run(["pg_dump", "--format=custom", "--port", str(db.get("port", 5432)), "--dbname", db["database"]],
                    "pg_dump of database %s" % db["database"], stdout=out, user="postgres")
            else:
                run(params["command"], "The backup command", stdout=out)
    os.chmod(target, 0o600)
    part.update(bytes=os.path.getsize(target), seconds=round(time.monotonic() - started, 2), sha256=digest(target))
    return part


def take(module, params):
    path, name = params["path"], params["name"]
    if not name or "/" in name or name.startswith("."):
        raise SnapshotError("name must be a plain file name, got %r" % name)
    previous = snapshots(path)
    if os.path.exists(os.path.join(path, name)):
        raise SnapshotError("a snapshot named %s is in %s already" % (name, path))
    if not module.check_mode:
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
    usage = os.statvfs(existing(path))
    free = usage.f_bavail * usage.f_frsize
    size = estimate(params, previous)
    needed = size + size // 10 + params["margin_mb"] * MIB
    out = dict(changed=True, free_bytes=free, needed_bytes=needed, removed=[], snapshot=None)
    if needed > free:
        raise SnapshotError(
            "not enough room in %s for the snapshot: the data takes %s now, so it needs %s free "
            "(the data, a tenth more and %d MiB margin), and %s is free. Free space there, or set "
            "app_backup_dir to a bigger file system." % (path, human(size), human(needed), params["margin_mb"], human(free)))
    if module.check_mode:
        out["snapshot"] = {"name": name, "release": params["release"], "serving": params["serving"], "check": True,
                           "parts": would_take(params)}
        return out
    for stale in os.listdir(path):
        if stale.startswith(PARTIAL):
            shutil.rmtree(os.path.join(path, stale), ignore_errors=True)
    work = os.path.join(path, PARTIAL + name)
    os.mkdir(work, 0o700)
    started = time.monotonic()
    try:
        parts = [take_part("sqlite", source, os.path.join(work, "sqlite-%d-%s" % (index, os.path.basename(source))), params)
                 for index, source in enumerate(params["sqlite"])]
        if params["tree"]:
            parts.append(take_part("tree", params["tree"], os.path.join(work, "tree.tar.gz"), params))
        if params["postgresql"]:
            parts.append(take_part("postgresql", params["postgresql"]["database"], os.path.join(work, "postgresql.dump"), params))
        if params["command"]:
            parts.append(take_part("command", " ".join(params["command"]), os.path.join(work, "command.out"), params))
        manifest = {"name": name, "release": params["release"], "serving": params["serving"],
                    "taken": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "seconds": round(time.monotonic() - started, 2),
                    "bytes": sum(p["bytes"] for p in parts), "parts": parts}
        with open(os.path.join(work, MANIFEST), "w") as handle:
            json.dump(manifest, handle, indent=1, sort_keys=True)
        os.chmod(os.path.join(work, MANIFEST), 0o600)
        os.rename(work, os.path.join(path, name))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    whole = snapshots(path)
    for old in whole[:-params["keep"]] if len(whole) > params["keep"] else []:
        shutil.rmtree(os.path.join(path, old["name"]))
        out["removed"].append(old["name"])
    out["snapshot"] = manifest
    return out


def existing(path):
    """The path, or its nearest folder that exists (where it would be made)."""
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def would_take(params):
    """The parts a snapshot would hold, sized as the data is now (check mode)."""
    parts = [{"kind": "sqlite", "source": source, "bytes": os.path.getsize(source) if os.path.exists(source) else 0,
              "absent": not os.path.exists(source)} for source in params["sqlite"]]
    if params["tree"]:
        parts.append({"kind": "tree", "source": params["tree"], "bytes": sum(
            os.path.getsize(os.path.join(params["tree"], relative)) for relative in tree_members(params["tree"], params["sqlite"])
            if os.path.isfile(os.path.join(params["tree"], relative)))})
    if params["postgresql"]:
        parts.append({"kind": "postgresql", "source": params["postgresql"]["database"], "bytes": int(pg_sql(
            params["postgresql"], "SELECT pg_database_size(:'db')", {"db": params["postgresql"]["database"]}) or 0)})
    if params["command"]:
        parts.append({"kind": "command", "source": " ".join(params["command"]), "bytes": 0})
    return parts


def human(count):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return ("%d %s" if unit == "B" else "%.1f %s") % (count, unit)
        count /= 1024.0
    return None


def report(manifest):
    lines = []
    for part in (manifest or {}).get("parts", []):
        what = "%s %s" % (part["kind"], part["source"])
        lines.append("%s: absent (no database yet)" % what if part.get("absent")
                     else "%s: would be taken, %s now" % (what, human(part["bytes"])) if manifest.get("check")
                     else "%s: %s in %.2f s" % (what, human(part["bytes"]), part["seconds"]))
    return lines


def choose(params, available):
    """The manifest to restore: by name, or the newest taken before a release."""
    wanted = params["name"]
    found = [m for m in available if m["name"] == wanted] or [m for m in available if m.get("release") == wanted]
    if not found:
        listed = ", ".join("%s (before %s)" % (m["name"], m.get("release")) for m in available) or "none"
        raise SnapshotError("no snapshot named %s or taken before release %s in %s. Snapshots there: %s"
                            % (wanted, wanted, params["path"], listed))
    return found[-1]


def check(params, manifest):
    folder = os.path.join(params["path"], manifest["name"])
    for part in manifest["parts"]:
        if part.get("absent"):
            continue
        file = os.path.join(folder, part["file"])
        if not os.path.exists(file) or digest(file) != part["sha256"]:
            raise SnapshotError("snapshot %s is damaged: %s is missing or differs from its digest" % (manifest["name"], file))
        if part["kind"] == "command" and not params["restore_command"]:
            raise SnapshotError("snapshot %s holds the output of a backup command, and no restore command is set "
                                "(app_restore_command)" % manifest["name"])


def remove_sqlite(source):
    for name in (source, source + "-wal", source + "-shm", source + "-journal"):
        if os.path.exists(name):
            os.unlink(name)


def restore_part(params, folder, part):
    file = os.path.join(folder, part["file"]) if part.get("file") else None
    if part["kind"] == "sqlite":
        if part.get("absent"):
            # There was no database before that migration.
            remove_sqlite(part["source"])
            return
        try:
            src = sqlite3.connect(uri(file, "ro"), uri=True)
            try:
                dst = sqlite3.connect(part["source"])
                try:
                    src.backup(dst)
                    dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    dst.close()
            finally:
                src.close()
        except sqlite3.Error as error:
            raise SnapshotError("restoring %s: %s" % (part["source"], error)) from None
        os.chown(part["source"], part["uid"], part["gid"])
        os.chmod(part["source"], int(part["mode"], 8))
    elif part["kind"] == "tree":
        databases = [other["source"] for other in params["manifest_parts"] if other["kind"] == "sqlite"]
        for relative in sorted(tree_members(part["source"], databases), reverse=True):
            path = os.path.join(part["source"], relative)
            if os.path.isdir(path) and not os.path.islink(path):
                if not os.listdir(path):
                    os.rmdir(path)
            else:
                os.unlink(path)
        with tarfile.open(file, "r:gz") as archive:
            # The snapshot's own archive: its owners, modes and links as they were.
            trusted = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
            archive.extractall(part["source"], numeric_owner=True, **trusted)
    elif part["kind"] == "postgresql":
        db = params["postgresql"] or {"database": part["source"]}
        # Sessions left would keep the database from being dropped.
        pg_sql(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :'db' AND pid <> pg_backend_pid()",
               {"db": part["source"]})
        with open(file, "rb") as dump:
            run(["pg_restore", "--clean", "--if-exists", "--create", "--exit-on-error", "--port", str(db.get("port", 5432)),
                 "--dbname", "postgres"], "pg_restore of database %s" % part["source"], stdin=dump,
                stdout=subprocess.DEVNULL, user="postgres")
    else:
        with open(file, "rb") as out:
            run(params["restore_command"], "The restore command", stdin=out, stdout=subprocess.DEVNULL)


def restore(module, params):
    manifest = choose(params, snapshots(params["path"]))
    check(params, manifest)
    if not module.check_mode:
        folder = os.path.join(params["path"], manifest["name"])
        params["manifest_parts"] = manifest["parts"]
        for part in manifest["parts"]:
            restore_part(params, folder, part)
    return dict(changed=True, snapshot=manifest, removed=[])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "restored", "listed"], default="present"),
            name=dict(type="str", default=""),
            release=dict(type="str", default=""),
            serving=dict(type="str", default=""),
            sqlite=dict(type="list", elements="path", default=[]),
            sqlite_search=dict(type="list", elements="path", default=[]),
            tree=dict(type="path", default=""),
            postgresql=dict(type="dict", default={}),
            command=dict(type="list", elements="str", default=[]),
            restore_command=dict(type="list", elements="str", default=[]),
            keep=dict(type="int", default=5),
            margin_mb=dict(type="int", default=64),
        ),
        required_if=[("state", "present", ["name"]), ("state", "restored", ["name"])],
        supports_check_mode=True,
    )
    params = module.params
    if params["keep"] < 1:
        module.fail_json(msg="data_snapshot: keep must be 1 or more, got %d" % params["keep"])
    if params["postgresql"] and not params["postgresql"].get("database"):
        module.fail_json(msg="data_snapshot: postgresql needs a database")
    relative = [path for path in params["sqlite"] if not os.path.isabs(path)]
    if relative:
        module.fail_json(msg="data_snapshot: sqlite paths must be absolute, got %s" % relative)
    if params["state"] == "present" and params["sqlite_search"]:
        # The ones named first, in their order, then those found.
        params["sqlite"] = params["sqlite"] + [path for path in find_sqlite(params["sqlite_search"])
                                               if path not in params["sqlite"]]
    try:
        if params["state"] == "listed":
            out = dict(changed=False, snapshot=None, removed=[])
        elif params["state"] == "present":
            out = take(module, params)
        else:
            out = restore(module, params)
    except (SnapshotError, OSError) as error:
        module.fail_json(msg=str(error), available=[summary(m) for m in snapshots(params["path"])])
    out["available"] = [summary(m) for m in snapshots(params["path"])]
    out["report"] = report(out["snapshot"])
    module.exit_json(**out)


if __name__ == "__main__":
    main()
