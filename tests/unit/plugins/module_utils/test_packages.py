from __future__ import annotations

import os

from ansible_collections.asgi.deploy.plugins.module_utils.packages import EXACT_SET, project_name, release_changes


def release(tmp_path, pyproject=None):
    """A built release's files as the role leaves them: its lock, its venv's python, its app."""
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").write_text("")
    (tmp_path / "app").mkdir()
    (tmp_path / "requirements.lock").write_text("idna==3.10\n")
    (tmp_path / EXACT_SET).write_text("")
    if pyproject is not None:
        (tmp_path / "app" / "pyproject.toml").write_text(pyproject)
    uv = tmp_path / "uv"
    uv.write_text("")
    return str(uv)


class Uv:
    """run_command as AnsibleModule has it, answering as uv pip sync --dry-run would."""

    def __init__(self, rc=0, out="", err=""):
        self.answer, self.calls = (rc, out, err), []

    def __call__(self, argv, environ_update=None):
        self.calls.append((argv, environ_update))
        return self.answer


def test_a_release_changed_by_hand_names_the_packages_but_not_its_own_project(tmp_path):
    uv = release(tmp_path, '[project]\nname = "Greeter_App"\nversion = "0.1.0"\n')
    run = Uv(err="Would uninstall 2 packages\n - idna==3.7\n - greeter-app==0.1.0\nWould install 1 package\n + idna==3.10\n")
    assert release_changes(run, uv, str(tmp_path), {"UV_CACHE_DIR": "/var/cache/x"}) == ["- idna==3.7", "+ idna==3.10"]
    argv, environ = run.calls[0]
    # Offline and dry: the check neither reaches an index nor changes the venv.
    assert argv == [uv, "pip", "sync", "--dry-run", "--offline", "--python",
                    os.path.join(str(tmp_path), "venv", "bin", "python"), os.path.join(str(tmp_path), "requirements.lock")]
    assert environ == {"UV_CACHE_DIR": "/var/cache/x", "UV_NO_PROGRESS": "1"}


def test_a_release_as_recorded_has_no_changes(tmp_path):
    uv = release(tmp_path)
    assert release_changes(Uv(err="Checked 12 packages in 2ms\nWould make no changes\n"), uv, str(tmp_path)) == []


def test_what_cannot_be_told_is_none(tmp_path):
    uv = release(tmp_path)
    # uv failed (offline, a package not in its cache), no uv, no release there.
    assert release_changes(Uv(rc=2, err="error: Network connectivity is disabled"), uv, str(tmp_path)) is None
    assert release_changes(Uv(), "", str(tmp_path)) is None
    assert release_changes(Uv(), uv, str(tmp_path / "missing")) is None
    # A release built before its set was checked: not compared (its server was installed beside the lock).
    os.unlink(str(tmp_path / EXACT_SET))
    assert release_changes(Uv(), uv, str(tmp_path)) is None
    (tmp_path / EXACT_SET).write_text("")
    os.unlink(str(tmp_path / "requirements.lock"))
    assert release_changes(Uv(), uv, str(tmp_path)) is None


def test_the_project_name_from_pep_621_or_poetry(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.poetry]\nname = "shop"\n')
    assert project_name(str(tmp_path)) == "shop"
    (tmp_path / "pyproject.toml").write_text("not = [toml")
    assert project_name(str(tmp_path)) == ""
    assert project_name(str(tmp_path / "none")) == ""
