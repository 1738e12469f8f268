# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""release_venv with shell commands standing in for uv's: the order it runs them in, where, what it skips, and
that the first failure stops it, named."""
from __future__ import annotations

import json
import os
import stat
import sys

import pytest
from ansible.module_utils import basic

from ansible_collections.asgi.deploy.plugins.modules import release_venv as rv


def run_module(monkeypatch, capsys, **params):
    # The task's environment reaches the module's process, and so its commands.
    monkeypatch.setenv("MARK", "from-environment")
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", None)
    monkeypatch.setattr(sys, "argv", ["release_venv", json.dumps({"ANSIBLE_MODULE_ARGS": params})])
    with pytest.raises(SystemExit):
        rv.main()
    return json.loads(capsys.readouterr().out)


def sh(command):
    return ["/bin/sh", "-c", command]


@pytest.fixture
def release(tmp_path):
    (tmp_path / "release" / "app").mkdir(parents=True)
    (tmp_path / "serving.lock").write_text("fastapi==0.110.0\n")
    return tmp_path / "release"


def params(release, **changes):
    log = release / "log"
    settings = dict(
        path=str(release), lock="fastapi==0.115.0\n",
        venv=sh("echo venv >> %s && mkdir -p %s/venv/bin && : > %s/venv/bin/python" % (log, release, release)),
        install=[sh("echo \"sync $(pwd -P) $MARK\" >> %s" % log), sh("echo \"app $(pwd -P)\" >> %s" % log)],
        check=sh("echo checked >> %s; echo 'Would make no changes' >&2" % log),
        serving_lock=str(release.parent / "serving.lock"))
    settings.update(changes)
    return settings


def test_writes_the_lock_creates_the_venv_installs_in_the_app_folder_then_checks(monkeypatch, capsys, release):
    result = run_module(monkeypatch, capsys, **params(release))
    app = os.path.realpath(release / "app")
    assert (release / "log").read_text().splitlines() == [
        "venv", "sync %s from-environment" % app, "app %s" % app, "checked"]
    assert (release / "requirements.lock").read_text() == "fastapi==0.115.0\n"
    assert stat.S_IMODE(os.stat(release / "requirements.lock").st_mode) == 0o644
    assert (result["changed"], result["check_stderr"], result["serving_lock"]) == (
        True, "Would make no changes\n", "fastapi==0.110.0\n")


def test_a_virtualenv_that_is_there_is_not_created_again(monkeypatch, capsys, release):
    (release / "venv" / "bin").mkdir(parents=True)
    (release / "venv" / "bin" / "python").write_text("")
    result = run_module(monkeypatch, capsys, **params(release, venv=["/bin/false"]))
    assert result.get("failed") is None and "venv" not in (release / "log").read_text().split()


def test_the_first_failing_command_stops_it_and_is_named_with_its_output(monkeypatch, capsys, release):
    failing = sh("echo 'No solution found when resolving' >&2; exit 2")
    result = run_module(monkeypatch, capsys, **params(release, install=[failing, sh("echo app >> %s" % (release / "log"))]))
    assert (result["failed"], result["rc"], result["cmd"], result["stderr"]) == (
        True, 2, failing, "No solution found when resolving\n")
    assert result["msg"].endswith("exited with 2")
    assert (release / "log").read_text().splitlines() == ["venv"]


def test_a_repair_only_installs_and_checks(monkeypatch, capsys, release):
    result = run_module(monkeypatch, capsys, **params(release, build=False))
    assert [line.split()[0] for line in (release / "log").read_text().splitlines()] == ["sync", "app", "checked"]
    assert not (release / "requirements.lock").exists() and result["serving_lock"] == ""


def test_no_serving_release_reads_as_an_empty_set(monkeypatch, capsys, release):
    result = run_module(monkeypatch, capsys, **params(release, serving_lock=str(release / "missing.lock")))
    assert result["serving_lock"] == ""
