# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""data_snapshot run as Ansible runs it, on real SQLite files and real
commands: a snapshot taken while rows sit uncheckpointed in the WAL restores
them exactly, a database that did not exist is restored as absent, the room
check refuses before writing, old snapshots go, and a damaged or incomplete
snapshot is never restored. (pg_dump and pg_restore run in the cluster
scenario, against a real PostgreSQL.)"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

from ansible_collections.asgi.deploy.plugins.modules.data_snapshot import find_sqlite

MODULE = "ansible_collections.asgi.deploy.plugins.modules.data_snapshot"


def call(tmp_path, check=False, **args):
    args.setdefault("path", str(tmp_path / "backups"))
    if check:
        args["_ansible_check_mode"] = True
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    done = subprocess.run([sys.executable, "-m", MODULE, str(path)], capture_output=True, text=True, check=False,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    return json.loads(done.stdout)


def dump(path):
    connection = sqlite3.connect(path)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


def database(tmp_path, rows):
    path = str(tmp_path / "app.db")
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT, note TEXT)")
    connection.executemany("INSERT INTO items (name, note) VALUES (?, ?)", [(r, "it's $x") for r in rows])
    connection.commit()
    return path, connection  # left open: the rows stay in the WAL, as in a running app


def test_a_live_database_comes_back_exactly_after_a_migration_dropped_a_column(tmp_path):
    path, writer = database(tmp_path, ["first", "second"])
    assert os.path.getsize(path + "-wal") > 0
    before = dump(path)
    os.chmod(path, 0o640)
    taken = call(tmp_path, name="t1-r2", release="r2", serving="r1", sqlite=[path])
    assert taken["changed"], taken
    snapshot = taken["snapshot"]
    assert snapshot["release"] == "r2" and snapshot["serving"] == "r1" and snapshot["bytes"] > 0
    assert [p["kind"] for p in snapshot["parts"]] == ["sqlite"] and snapshot["parts"][0]["mode"] == "0640"
    assert taken["report"] == ["sqlite %s: %.1f KiB in %.2f s" % (path, snapshot["bytes"] / 1024.0, snapshot["parts"][0]["seconds"])]
    writer.execute("ALTER TABLE items DROP COLUMN note")
    writer.execute("INSERT INTO items (name) VALUES ('after')")
    writer.commit()
    writer.close()
    assert dump(path) != before
    restored = call(tmp_path, state="restored", name="r2")
    assert restored["changed"] and restored["snapshot"]["name"] == "t1-r2", restored
    assert dump(path) == before
    assert oct(os.stat(path).st_mode & 0o777) == "0o640"


def test_files_are_private_to_root(tmp_path):
    path, writer = database(tmp_path, ["a"])
    writer.close()
    call(tmp_path, name="t1-r2", release="r2", sqlite=[path])
    folder = tmp_path / "backups"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert oct((folder / "t1-r2").stat().st_mode & 0o777) == "0o700"
    modes = {f.name: oct(f.stat().st_mode & 0o777) for f in (folder / "t1-r2").iterdir()}
    assert modes == {"manifest.json": "0o600", "sqlite-0-app.db": "0o600"}, modes


def test_a_database_that_did_not_exist_is_restored_as_absent(tmp_path):
    path = str(tmp_path / "app.db")
    taken = call(tmp_path, name="t1-r1", release="r1", sqlite=[path])
    assert taken["snapshot"]["parts"][0]["absent"] and not os.path.exists(path)
    assert taken["report"] == ["sqlite %s: absent (no database yet)" % path]
    writer = database(tmp_path, ["made by the migration"])[1]
    writer.close()
    call(tmp_path, state="restored", name="t1-r1")
    assert not [n for n in os.listdir(tmp_path) if n.startswith("app.db")]


def test_too_little_room_is_refused_before_anything_is_written(tmp_path):
    path, writer = database(tmp_path, ["a"])
    writer.close()
    refused = call(tmp_path, name="t1-r2", release="r2", sqlite=[path], margin_mb=10 ** 9)
    assert refused["failed"] and "not enough room" in refused["msg"] and "app_backup_dir" in refused["msg"], refused
    assert not os.listdir(tmp_path / "backups")


def test_check_mode_checks_the_room_and_writes_nothing(tmp_path):
    path, writer = database(tmp_path, ["a"])
    writer.close()
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "upload.txt").write_text("x" * 300)
    checked = call(tmp_path, check=True, name="t1-r2", release="r2", sqlite=[path], tree=str(tmp_path / "state"))
    assert checked["changed"] and checked["needed_bytes"] >= 64 * 1024 * 1024 and checked["free_bytes"] > 0
    # Not even the snapshots' folder is made; what would be taken is said.
    assert not (tmp_path / "backups").exists()
    assert checked["report"] == ["sqlite %s: would be taken, %.1f KiB now" % (path, os.path.getsize(path) / 1024),
                                 "tree %s: would be taken, 300 B now" % (tmp_path / "state")], checked["report"]


def test_the_newest_are_kept_and_a_release_restores_its_newest(tmp_path):
    path, writer = database(tmp_path, ["a"])
    names = ["t1-r2", "t2-r3", "t3-r3", "t4-r4"]
    for name in names:
        writer.execute("INSERT INTO items (name) VALUES (?)", (name,))
        writer.commit()
        last = call(tmp_path, name=name, release=name.split("-")[1], sqlite=[path], keep=3)
    writer.close()
    assert last["removed"] == ["t1-r2"] and [s["name"] for s in last["available"]] == names[1:]
    listed = call(tmp_path, state="listed")
    assert not listed["changed"] and [s["serving"] for s in listed["available"]] == ["", "", ""], listed
    chosen = call(tmp_path, check=True, state="restored", name="r3")
    assert chosen["snapshot"]["name"] == "t3-r3"
    missing = call(tmp_path, check=True, state="restored", name="r2")
    assert missing["failed"] and "t2-r3 (before r3)" in missing["msg"], missing
    exact = call(tmp_path, check=True, state="restored", name="t2-r3")
    assert exact["snapshot"]["name"] == "t2-r3"


def test_a_command_output_round_trips_through_the_restore_command(tmp_path):
    data = tmp_path / "uploads.txt"
    data.write_text("uploaded 'files' and $HOME\n")
    command = ["sh", "-c", "cat %s" % data]
    call(tmp_path, name="t1-r2", release="r2", command=command)
    data.write_text("changed\n")
    unset = call(tmp_path, check=True, state="restored", name="r2")
    assert unset["failed"] and "app_restore_command" in unset["msg"], unset
    call(tmp_path, state="restored", name="r2", restore_command=["sh", "-c", "cat > %s" % data])
    assert data.read_text() == "uploaded 'files' and $HOME\n"


def test_a_failing_command_leaves_no_snapshot(tmp_path):
    failed = call(tmp_path, name="t1-r2", release="r2", command=["sh", "-c", "echo half; echo disk gone >&2; exit 3"])
    assert failed["failed"] and "exit 3" in failed["msg"] and "disk gone" in failed["msg"], failed
    assert not os.listdir(tmp_path / "backups")


def test_a_damaged_snapshot_is_not_restored(tmp_path):
    path, writer = database(tmp_path, ["a"])
    writer.close()
    call(tmp_path, name="t1-r2", release="r2", sqlite=[path])
    with open(tmp_path / "backups" / "t1-r2" / "sqlite-0-app.db", "ab") as handle:
        handle.write(b"x")
    before = dump(path)
    refused = call(tmp_path, state="restored", name="r2")
    assert refused["failed"] and "damaged" in refused["msg"], refused
    assert dump(path) == before


def test_a_folder_without_its_manifest_is_not_a_snapshot(tmp_path):
    (tmp_path / "backups" / ".partial-t1-r2").mkdir(parents=True)
    (tmp_path / "backups" / "t0-r1").mkdir()
    result = call(tmp_path, check=True, state="restored", name="r1")
    assert result["failed"] and result["available"] == [], result


def test_relative_sqlite_paths_are_refused(tmp_path):
    result = call(tmp_path, name="t1-r2", release="r2", sqlite=["app.db"])
    assert result["failed"] and "absolute" in result["msg"], result


def test_sqlite_databases_are_found_by_their_header(tmp_path):
    state = tmp_path / "state"
    (state / "uploads").mkdir(parents=True)
    for path in (state / "database.db", state / "uploads" / "thumbs.sqlite3"):
        connection = sqlite3.connect(str(path))
        connection.execute("create table t (x)")
        connection.commit()
        connection.close()
    (state / "database.db-wal").write_bytes(b"WAL")
    (state / "uploads" / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (state / "notes.txt").write_text("SQLite format 2, not a database\n")
    assert find_sqlite([str(state)]) == [str(state / "database.db"), str(state / "uploads" / "thumbs.sqlite3")]
    assert find_sqlite([str(tmp_path / "missing")]) == []


def test_the_state_folder_comes_back_whole_beside_its_database(tmp_path):
    state = tmp_path / "state"
    (state / "uploads" / "2026").mkdir(parents=True)
    (state / "uploads" / "2026" / "photo.jpg").write_bytes(b"\xff\xd8 first")
    (state / "settings.json").write_text('{"theme": "dark"}')
    os.chmod(str(state / "settings.json"), 0o600)
    path, writer = database(state, ["kept"])
    taken = call(tmp_path, name="t1-r2", release="r2", serving="r1", sqlite_search=[str(state)], tree=str(state))
    assert [p["kind"] for p in taken["snapshot"]["parts"]] == ["sqlite", "tree"], taken
    # What the migration and the app did afterwards: a new upload, one changed, one deleted, new rows.
    (state / "uploads" / "2026" / "photo.jpg").write_bytes(b"overwritten")
    (state / "uploads" / "new.png").write_bytes(b"new")
    (state / "settings.json").unlink()
    writer.execute("INSERT INTO items (name, note) VALUES ('after', '')")
    writer.commit()
    writer.close()
    restored = call(tmp_path, state="restored", name="r2")
    assert restored["changed"], restored
    assert (state / "uploads" / "2026" / "photo.jpg").read_bytes() == b"\xff\xd8 first"
    assert not (state / "uploads" / "new.png").exists()
    assert oct(os.stat(str(state / "settings.json")).st_mode & 0o777) == "0o600"
    assert [row[0] for row in sqlite3.connect(path).execute("SELECT name FROM items")] == ["kept"]
