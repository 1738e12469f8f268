# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dependency_lock on the fixture projects of tests/apps and on small locks
written here: which lock it finds, what it pins, and what it refuses."""
from __future__ import annotations

import pathlib
import shutil
import tomllib

import pytest

from ansible_collections.asgi.deploy.plugins.plugin_utils import dependency_lock as dl

APPS = pathlib.Path(__file__).resolve().parents[3] / "apps"
UV = shutil.which("uv")
HOST = {"web1": "3.11.2"}

POETRY_LOCK = '''
[[package]]
name = "anyio"
version = "4.8.0"
optional = false
groups = ["main"]
files = [{file = "anyio-4.8.0-py3-none-any.whl", hash = "sha256:aa"}, {file = "anyio-4.8.0.tar.gz", hash = "sha256:bb"}]

[[package]]
name = "colorama"
version = "0.4.6"
optional = false
groups = ["main", "dev"]
markers = {main = "sys_platform == \\"win32\\"", dev = "sys_platform == \\"win32\\""}
files = [{file = "colorama-0.4.6.tar.gz", hash = "sha256:cc"}]

[[package]]
name = "pytest"
version = "8.0.0"
optional = false
groups = ["dev"]
files = [{file = "pytest-8.0.0.tar.gz", hash = "sha256:dd"}]

[[package]]
name = "tool"
version = "1.0"
optional = false
groups = ["main"]
files = []
[package.source]
type = "git"
url = "https://git.example/tool.git"
reference = "main"
resolved_reference = "abc123"

[metadata]
lock-version = "2.1"
'''

PYLOCK = '''
lock-version = "1.0"
created-by = "test"

[[packages]]
name = "idna"
version = "3.10"
wheels = [{name = "idna-3.10-py3-none-any.whl", url = "https://f/idna.whl", hashes = {sha256 = "ee"}}]
sdist = {name = "idna-3.10.tar.gz", url = "https://f/idna.tar.gz", hashes = {sha256 = "ff"}}

[[packages]]
name = "tomli"
version = "2.0.1"
marker = "python_version < '3.11'"
wheels = [{url = "https://f/tomli.whl", hashes = {sha256 = "11"}}]
'''


def read(src, subdir="", mode="auto", pythons=None, uv=UV):
    return dl.read_lock(str(src), subdir, mode, "requirements.txt", pythons or HOST, uv)


def test_poetry_main_group_with_hashes_markers_and_git(tmp_path):
    (tmp_path / "poetry.lock").write_text(POETRY_LOCK)
    result = read(tmp_path)
    assert result["kind"] == "poetry.lock"
    assert result["requirements"].splitlines() == [
        "anyio==4.8.0 --hash=sha256:aa --hash=sha256:bb",
        'colorama==0.4.6 ; sys_platform == "win32" --hash=sha256:cc',
        "tool @ git+https://git.example/tool.git@abc123",
    ]


def test_poetry_lock_1_categories(tmp_path):
    (tmp_path / "poetry.lock").write_text(
        '[[package]]\nname = "a"\nversion = "1"\ncategory = "main"\noptional = false\n'
        '[[package]]\nname = "b"\nversion = "2"\ncategory = "dev"\noptional = false\n')
    assert read(tmp_path)["requirements"] == "a==1\n"


def test_poetry_directory_source_is_refused(tmp_path):
    (tmp_path / "poetry.lock").write_text(
        '[[package]]\nname = "lib"\nversion = "1"\ngroups = ["main"]\n'
        '[package.source]\ntype = "directory"\nurl = "../lib"\n')
    with pytest.raises(dl.LockError, match="lib comes from a directory source"):
        read(tmp_path)


def test_pylock_every_file_hash(tmp_path):
    (tmp_path / "pylock.toml").write_text(PYLOCK)
    result = read(tmp_path)
    assert result["kind"] == "pylock.toml"
    assert result["requirements"].splitlines() == [
        "idna==3.10 --hash=sha256:ee --hash=sha256:ff",
        "tomli==2.0.1 ; python_version < '3.11' --hash=sha256:11",
    ]


@pytest.mark.parametrize("text, locked", [
    ("anyio==4.8.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n    # via starlette\n", True),
    ("--index-url https://mirror/simple\nidna==3.10 --hash=sha256:ee\n", True),
    ("uvicorn[standard]==0.30.1 ; python_version >= '3.9' --hash=sha256:cc\n", True),
    # The most common shape of a FastAPI project: its own dependencies pinned, nothing else.
    ("fastapi==0.115.12\nwebsockets==15.0.1\n", False),
    ("anyio==4.8.0 --hash=sha256:aa\nidna==3.10\n", False),
    ("fastapi>=0.110\n", False),
    ("fastapi==0.115.0 --hash=sha256:aa\n-r base.txt\n", False),
    ("-e .\n", False),
    ("# only a comment\n", False),
])
def test_a_requirements_file_is_a_lock_only_when_it_pins_every_line_with_its_hashes(text, locked):
    assert dl.locked_requirements(text) is locked


def test_a_top_level_pinned_requirements_file_is_resolved_not_installed_as_it_is(tmp_path):
    (tmp_path / "requirements.txt").write_text("fastapi==0.115.12\nwebsockets==15.0.1\n")
    assert read(tmp_path)["kind"] == "none"
    with pytest.raises(dl.LockError, match="pins every package with its hashes.*--generate-hashes"):
        read(tmp_path, mode="required")


def test_the_nearest_lock_wins_and_the_app_folders_first(tmp_path):
    (tmp_path / "poetry.lock").write_text(POETRY_LOCK)
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / "pylock.toml").write_text(PYLOCK)
    assert read(tmp_path, "backend")["kind"] == "pylock.toml"
    (tmp_path / "backend" / "pylock.toml").unlink()
    assert read(tmp_path, "backend")["path"] == "poetry.lock"


def test_none_ignores_and_required_refuses(tmp_path):
    (tmp_path / "pylock.toml").write_text(PYLOCK)
    assert read(tmp_path, mode="none")["kind"] == "none"
    (tmp_path / "pylock.toml").unlink()
    (tmp_path / "requirements.txt").write_text("fastapi>=0.110\n")
    with pytest.raises(dl.LockError, match="app_lock is 'required', but there is no lock"):
        read(tmp_path, mode="required")
    assert read(tmp_path)["kind"] == "none"


def test_requires_python_names_the_host_and_the_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.12"\n')
    with pytest.raises(dl.LockError, match=r"requires Python >=3\.12 .*pyproject\.toml.*web1 has Python 3\.11\.2"):
        read(tmp_path)
    assert read(tmp_path, pythons={"web1": "3.13.5"})["project_file"] == "pyproject.toml"


def test_a_pyproject_with_only_tool_settings_is_not_a_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.ruff]\nline-length = 100\n')
    assert (read(tmp_path)["project_file"], read(tmp_path)["project"]) == ("", "")


def test_the_projects_name_for_the_release_check():
    assert read(APPS / "poetry")["project"] == "shop"


def test_the_hashed_fixture_is_its_own_lock():
    result = read(APPS / "hashed")
    assert result["kind"] == "requirements" and "starlette==0.39.2" in result["requirements"]


def test_the_poetry_fixture_pins_fastapi_below_its_range():
    result = read(APPS / "poetry")
    assert "fastapi==0.115.0 --hash=sha256:" in result["requirements"]
    assert "pytest" not in result["requirements"]


@pytest.mark.skipif(UV is None, reason="uv is not installed beside the tests")
def test_a_workspace_member_takes_the_roots_uv_lock():
    result = read(APPS / "monorepo", "backend")
    assert result["kind"] == "uv.lock" and result["path"] == "uv.lock"
    assert "starlette==0.46.0" in result["requirements"] and "greeter" not in result["requirements"]


@pytest.mark.skipif(UV is None, reason="uv is not installed beside the tests")
def test_a_stale_uv_lock_names_the_command_that_refreshes_it(tmp_path):
    shutil.copytree(APPS / "monorepo", tmp_path / "repo")
    pyproject = tmp_path / "repo" / "backend" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('["starlette>=0.37"]', '["starlette>=0.37", "idna"]'))
    with pytest.raises(dl.LockError, match=r"uv\.lock is stale.*`uv lock`"):
        read(tmp_path / "repo", "backend")


def test_a_uv_lock_without_uv_on_the_controller_says_how_to_get_it():
    with pytest.raises(dl.LockError, match="pip install uv"):
        read(APPS / "monorepo", "backend", uv=None)


def test_the_poetry_fixtures_content_hash_is_the_one_poetry_writes():
    # Checked with Poetry 2.5.1: `poetry check --lock` in tests/apps/poetry says "All set!".
    with open(APPS / "poetry" / "pyproject.toml", "rb") as handle:
        pyproject = tomllib.load(handle)
    with open(APPS / "poetry" / "poetry.lock", "rb") as handle:
        assert dl.poetry_content_hash(pyproject) == tomllib.load(handle)["metadata"]["content-hash"]


def test_a_stale_poetry_lock_names_the_command_that_refreshes_it(tmp_path):
    shutil.copytree(APPS / "poetry", tmp_path / "shop")
    pyproject = tmp_path / "shop" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('requires-python = ">=3.11"', 'requires-python = ">=3.11,<4"'))
    with pytest.raises(dl.LockError, match=r"poetry\.lock is stale.*`poetry lock`"):
        read(tmp_path / "shop")


def test_a_poetry_lock_of_poetry_before_2_3_may_leave_the_dependency_groups_out():
    pyproject = {"project": {"dependencies": ["fastapi"]}, "dependency-groups": {"dev": ["pytest"]}}
    assert dl.poetry_content_hash(pyproject) != dl.poetry_content_hash(pyproject, groups=False)
