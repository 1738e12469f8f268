# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os
import subprocess

import pytest

from ansible_collections.asgi.deploy.plugins.modules import files


class Failed(Exception):
    pass


class Module:
    def __init__(self, check_mode=False, diff=False):
        self.check_mode, self._diff = check_mode, diff

    @staticmethod
    def run_command(command):
        done = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
        return done.returncode, done.stdout, done.stderr

    @staticmethod
    def fail_json(msg, **kwargs):
        raise Failed(msg)


def mode(path):
    return os.stat(str(path)).st_mode & 0o7777


def test_files_are_written_in_order_and_a_second_pass_changes_nothing(tmp_path):
    entries = [{"path": str(tmp_path / "a.env"), "content": "A=1\n", "mode": "0640"},
               {"path": str(tmp_path / "done"), "content": ""}]
    first = files.Files(Module())
    for entry in entries:
        first.file(entry)
    assert first.done == [entry["path"] for entry in entries]
    assert (tmp_path / "a.env").read_text() == "A=1\n" and mode(tmp_path / "a.env") == 0o640
    assert (tmp_path / "done").read_text() == "" and mode(tmp_path / "done") == 0o644
    again = files.Files(Module())
    for entry in entries:
        again.file(entry)
    assert again.done == []


def test_a_changed_mode_alone_is_put_back_without_rewriting(tmp_path):
    path = tmp_path / "unit"
    files.Files(Module()).file({"path": str(path), "content": "x\n"})
    os.chmod(str(path), 0o666)
    inode = os.stat(str(path)).st_ino
    fixed = files.Files(Module())
    fixed.file({"path": str(path), "content": "x\n"})
    assert fixed.done == [str(path)] and mode(path) == 0o644 and os.stat(str(path)).st_ino == inode


def test_a_folder_holds_exactly_the_files_it_lists(tmp_path):
    folder = tmp_path / "credentials"
    folder.mkdir()
    (folder / "old").write_text("gone")
    (folder / "token").write_text("before")
    done = files.Files(Module())
    done.folder({"path": str(folder), "mode": "0750", "files": {"token": "s3cret", "key": "k"}})
    assert sorted(os.listdir(str(folder))) == ["key", "token"]
    assert (folder / "token").read_text() == "s3cret" and mode(folder / "token") == 0o640
    assert mode(folder) == 0o750
    assert done.done == [str(folder), str(folder / "old"), str(folder / "key"), str(folder / "token")]


def test_absent_paths_go_with_what_they_hold(tmp_path):
    (tmp_path / "release" / "app").mkdir(parents=True)
    (tmp_path / "release" / "app" / "main.py").write_text("")
    gone = files.Files(Module())
    for path in (tmp_path / "release", tmp_path / "never"):
        gone.remove(str(path))
    assert gone.done == [str(tmp_path / "release")] and not (tmp_path / "release").exists()


def test_check_mode_says_and_changes_nothing(tmp_path):
    (tmp_path / "old").mkdir()
    check = files.Files(Module(check_mode=True))
    check.remove(str(tmp_path / "old"))
    check.folder({"path": str(tmp_path / "new"), "mode": "0755", "files": {"a": "1"}})
    check.file({"path": str(tmp_path / "unit"), "content": "x\n"})
    assert len(check.done) == 4 and sorted(os.listdir(str(tmp_path))) == ["old"]


def test_a_file_that_fails_its_check_is_not_written_and_leaves_nothing_behind(tmp_path):
    path = tmp_path / "unit"
    path.write_text("good\n")
    with pytest.raises(Failed, match="failed its check"):
        files.Files(Module()).file({"path": str(path), "content": "bad\n", "validate": "grep -q good %s"})
    assert path.read_text() == "good\n" and os.listdir(str(tmp_path)) == ["unit"]
    files.Files(Module()).file({"path": str(path), "content": "good again\n", "validate": "grep -q good %s"})
    assert path.read_text() == "good again\n"


def test_the_diff_shows_content_but_not_a_secret_one(tmp_path):
    diff = files.Files(Module(check_mode=True, diff=True))
    diff.file({"path": str(tmp_path / "unit"), "content": "[Unit]\n"})
    diff.file({"path": str(tmp_path / "env"), "content": "TOKEN=s3cret\n", "secret": True})
    assert diff.diffs[0]["after"] == "[Unit]\n"
    assert "s3cret" not in repr(diff.diffs[1])


def test_a_backup_keeps_the_file_replaced_and_only_when_there_was_one(tmp_path):
    path = tmp_path / "shop-tcp.socket"
    kept = files.Files(Module())
    kept.file({"path": str(path), "content": "new\n", "backup": True})
    assert kept.backups == {}
    path.write_text("old\n")
    kept.file({"path": str(path), "content": "new\n", "backup": True})
    assert path.read_text() == "new\n" and open(kept.backups[str(path)]).read() == "old\n"
