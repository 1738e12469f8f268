# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import hashlib
import io
import os
import tarfile

import pytest

from ansible_collections.asgi.deploy.plugins.plugin_utils import source_archive as sa

EXCLUDE = [".git", "__pycache__", "*.pyc", ".venv"]


def make_tree(root):
    (root / "app").mkdir(parents=True)
    (root / "app" / "main.py").write_text("app = 1\n")
    (root / "requirements.txt").write_text("fastapi\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref\n")
    (root / "app" / "__pycache__").mkdir()
    (root / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").write_text("")
    return root


def digest(src):
    return hashlib.sha256(sa.build_archive(str(src), sa.source_entries(str(src), EXCLUDE))).hexdigest()


def test_excluded_names_are_left_out(tmp_path):
    entries = sa.source_entries(str(make_tree(tmp_path)), EXCLUDE)
    assert entries == ["app", "app/main.py", "requirements.txt"]


def test_same_content_same_digest_whatever_the_times(tmp_path):
    first = make_tree(tmp_path / "a")
    second = make_tree(tmp_path / "b")
    os.utime(second / "app" / "main.py", (1, 1))
    assert digest(first) == digest(second)


def test_changed_content_or_mode_changes_the_digest(tmp_path):
    src = make_tree(tmp_path)
    before = digest(src)
    (src / "app" / "main.py").write_text("app = 2\n")
    changed = digest(src)
    assert changed != before
    os.chmod(src / "app" / "main.py", 0o755)
    assert digest(src) != changed


def test_cache_files_do_not_change_the_digest(tmp_path):
    src = make_tree(tmp_path)
    before = digest(src)
    (src / "app" / "__pycache__" / "other.pyc").write_bytes(b"\1")
    (src / ".git" / "ORIG_HEAD").write_text("x\n")
    assert digest(src) == before


def test_archive_unpacks_to_the_tree_with_root_ownership(tmp_path):
    src = make_tree(tmp_path)
    data = sa.build_archive(str(src), sa.source_entries(str(src), EXCLUDE))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert tar.extractfile("app/main.py").read() == b"app = 1\n"
    assert set(members) == {"app", "app/main.py", "requirements.txt"}
    assert all(m.uid == 0 and m.mtime == 0 for m in members.values())


def test_prune_keeps_the_newest_and_the_current(tmp_path):
    paths = []
    for index in range(4):
        path = tmp_path / ("%d.tar.gz" % index)
        path.write_bytes(b"x")
        os.utime(path, (index, index))
        paths.append(str(path))
    sa.prune(str(tmp_path), 2, paths[0], now=sa.IN_USE_SECONDS + 10)
    assert sorted(os.listdir(tmp_path)) == ["0.tar.gz", "2.tar.gz", "3.tar.gz"]


def test_prune_leaves_archives_another_run_may_be_copying(tmp_path):
    now = 10 * sa.IN_USE_SECONDS
    for index, age in enumerate([0, 60, sa.IN_USE_SECONDS - 1, sa.IN_USE_SECONDS + 1]):
        path = tmp_path / ("%d.tar.gz" % index)
        path.write_bytes(b"x")
        os.utime(path, (now - age, now - age))
    sa.prune(str(tmp_path), 1, str(tmp_path / "0.tar.gz"), now=now)
    assert sorted(os.listdir(tmp_path)) == ["0.tar.gz", "1.tar.gz", "2.tar.gz"]


def test_pack_writes_the_archive_its_digest_names_and_check_mode_writes_nothing(tmp_path):
    src, dest = make_tree(tmp_path / "src"), tmp_path / "cache"
    foreseen = sa.pack(str(src), str(dest), EXCLUDE, 5, check_mode=True)
    assert not dest.exists()
    packed = sa.pack(str(src), str(dest), EXCLUDE, 5)
    assert (foreseen["digest"], foreseen["changed"], packed["changed"]) == (packed["digest"], True, True)
    with open(packed["path"], "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == packed["digest"] == digest(src)
    assert sa.pack(str(src), str(dest), EXCLUDE, 5)["changed"] is False


@pytest.mark.parametrize("make, keep, message", [
    (lambda root: root / "missing", 5, "is not a folder on the controller"),
    (make_tree, 0, "keep must be 1 or more, got 0"),
    (lambda root: (root / ".git").mkdir() or root, 5, "has no files to deploy"),
])
def test_pack_names_what_is_wrong(tmp_path, make, keep, message):
    with pytest.raises(ValueError, match=message):
        sa.pack(str(make(tmp_path)), str(tmp_path / "cache"), EXCLUDE, keep)
