# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""release_source: the archive source_archive writes unpacks to the same tree, a leftover goes first, and a member
that would land outside the app folder is refused before anything is written."""
from __future__ import annotations

import io
import os
import stat
import tarfile

import pytest

from ansible_collections.asgi.deploy.plugins.modules import release_source as rs
from ansible_collections.asgi.deploy.plugins.plugin_utils import source_archive as sa


def write(path, data):
    path.write_bytes(data)
    return str(path)


def test_the_archive_of_a_source_unpacks_to_that_source(tmp_path):
    src = tmp_path / "src"
    (src / "app").mkdir(parents=True)
    (src / "app" / "main.py").write_text("app = 1\n")
    (src / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(src / "run.sh", 0o755)
    os.symlink("app/main.py", src / "main.py")
    archive = write(tmp_path / "a.tar.gz", sa.build_archive(str(src), sa.source_entries(str(src), [])))
    release = tmp_path / "releases" / "r1"
    release.mkdir(parents=True)
    (release / "half-built").write_text("")

    assert rs.unpack(archive, str(release)) == 2
    app = release / "app"
    assert sorted(os.listdir(release)) == ["app"]
    assert (app / "app" / "main.py").read_text() == "app = 1\n" and os.readlink(app / "main.py") == "app/main.py"
    assert stat.S_IMODE(os.stat(app / "run.sh").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(release).st_mode) == stat.S_IMODE(os.stat(app).st_mode) == 0o755


def archive_of(tmp_path, member, data=b""):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return write(tmp_path / "bad.tar.gz", raw.getvalue())


def member(name, kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info


@pytest.mark.parametrize("bad, why", [
    (member("../escape.py"), "its path leaves the app folder"),
    (member("/etc/cron.d/job"), "its path leaves the app folder"),
    (member("etc", tarfile.SYMTYPE, "/etc"), "it links out of the app folder"),
    (member("up", tarfile.SYMTYPE, "../../.."), "it links out of the app folder"),
    (member("null", tarfile.CHRTYPE), "it is not a file, folder or link"),
])
def test_a_member_outside_the_app_folder_is_refused_and_nothing_is_written(tmp_path, bad, why):
    release = tmp_path / "releases" / "r1"
    release.mkdir(parents=True)
    (release / "kept").write_text("")
    with pytest.raises(ValueError, match="refused: " + why):
        rs.unpack(archive_of(tmp_path, bad), str(release))
    assert os.listdir(release) == ["kept"]
