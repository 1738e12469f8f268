# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.asgi.deploy.plugins.filter.uv_install import (
    completed_set, requirements_diff, sync_changes, uv_install)

UV = "/opt/asgi-deploy/uv/0.13.9/uv"
REL = "/opt/app/releases/abc"
PIP = [UV, "pip", "install", "--python", REL + "/venv/bin/python"]
SYNC = [UV, "pip", "sync", "--python", REL + "/venv/bin/python"]
COMPILE = [UV, "pip", "compile", "--python", "python3", "--no-header", "--no-annotate", "--quiet"]
LOCK = "anyio==4.8.0 --hash=sha256:aa\nuvicorn==0.34.0 --hash=sha256:bb\n"


def settings(**changes):
    base = dict(uv=UV, python="python3", release=REL, lock="uv.lock", project_file="pyproject.toml",
                has_requirements=False, install="auto", requirements_file="requirements.txt", package="",
                uvicorn="uvicorn>=0.30", extra_requirements=[], extra_args=[])
    base.update(changes)
    return base


def test_a_locked_project_installs_exactly_the_lock_then_itself_without_dependencies():
    plan = uv_install(settings(), LOCK)
    assert plan["venv"] == [UV, "venv", "--python", "python3", REL + "/venv"]
    # The lock pins the server: nothing to resolve, on any host.
    assert plan["resolve"] == []
    assert plan["install"] == [SYNC + [REL + "/requirements.lock"], PIP + ["--no-deps", REL + "/app"]]
    assert plan["check"] == [UV, "pip", "sync", "--dry-run", "--offline", "--python", REL + "/venv/bin/python",
                             REL + "/requirements.lock"]


def test_a_lock_without_the_server_gets_it_resolved_once_against_its_pins():
    plan = uv_install(settings(extra_requirements=["sentry-sdk"]), "anyio==4.8.0\n")
    assert plan["resolve"] == COMPILE + ["-"]
    assert plan["resolve_stdin"] == "anyio==4.8.0\nuvicorn>=0.30\nsentry-sdk\n"
    # A hashed lock's completion is hashed too.
    hashed = uv_install(settings(), "anyio==4.8.0 --hash=sha256:aa\n")
    assert hashed["resolve"] == COMPILE + ["--generate-hashes", "-"]


def test_the_completed_set_keeps_the_lock_as_it_is_and_adds_what_it_lacks():
    resolved = "anyio==4.8.0\nclick==8.1.8\n    # via uvicorn\nh11==0.16.0\nuvicorn==0.54.0\n"
    assert completed_set("anyio==4.8.0 --hash=sha256:aa\n", resolved) == (
        "anyio==4.8.0 --hash=sha256:aa\nclick==8.1.8\nh11==0.16.0\nuvicorn==0.54.0\n")
    assert completed_set(LOCK, "anyio==4.8.0\nuvicorn==0.34.0\n") == LOCK
    # Hash lines stay with their requirement; without a lock every entry is kept.
    resolved = ("anyio==4.8.0 \\\n    --hash=sha256:aa\nuvicorn==0.54.0 \\\n    --hash=sha256:bb \\\n"
                "    --hash=sha256:cc\n")
    assert completed_set("anyio==4.8.0 --hash=sha256:aa\n", resolved) == (
        "anyio==4.8.0 --hash=sha256:aa\nuvicorn==0.54.0 \\\n    --hash=sha256:bb \\\n    --hash=sha256:cc\n")
    assert completed_set("", resolved) == resolved


def test_without_a_lock_the_project_and_requirements_are_resolved_with_the_server():
    plan = uv_install(settings(lock="none", has_requirements=True, extra_requirements=["sentry-sdk"],
                               extra_args=["--prerelease", "allow"]))
    assert plan["resolve"] == COMPILE + ["--prerelease", "allow", REL + "/app/pyproject.toml",
                                         REL + "/app/requirements.txt", "-"]
    assert plan["resolve_stdin"] == "uvicorn>=0.30\nsentry-sdk\n"
    # The resolved set holds the server: the install only syncs it.
    assert plan["install"][0] == SYNC + ["--prerelease", "allow", REL + "/requirements.lock"]


def test_requirements_only():
    plan = uv_install(settings(lock="none", project_file="", has_requirements=True))
    assert plan["resolve"][-2:] == [REL + "/app/requirements.txt", "-"]
    assert len(plan["install"]) == 1


def test_a_wheel_file_or_a_requirement_as_the_package():
    wheel = uv_install(settings(lock="none", project_file="", package="/home/me/dist/shop-1.0-py3-none-any.whl"))
    assert wheel["resolve_stdin"].splitlines()[0] == REL + "/app/shop-1.0-py3-none-any.whl"
    spec = uv_install(settings(lock="none", project_file="", package="shop==1.0"))
    assert spec["resolve_stdin"].splitlines()[0] == "shop==1.0"
    assert len(spec["install"]) == 1


def test_install_project_without_a_project_is_refused():
    with pytest.raises(AnsibleFilterError, match="no pyproject.toml or setup.py"):
        uv_install(settings(install="project", project_file=""))


@pytest.mark.parametrize("bad, match", [
    ("nope", "expected a dict"),
    ({"uv": UV}, "settings lack"),
])
def test_bad_input(bad, match):
    with pytest.raises(AnsibleFilterError, match=match):
        uv_install(bad)


def test_bad_install_mode():
    with pytest.raises(AnsibleFilterError, match="install must be one of"):
        uv_install(settings(install="everything"))


def test_diff_lists_added_removed_and_changed():
    old = "anyio==4.8.0 \\\n    --hash=sha256:aa\nfastapi==0.115.0 ; python_version >= '3.8'\nidna==3.10\n"
    new = "anyio==4.9.0 --hash=sha256:bb\nFastAPI==0.115.0\nsniffio==1.3.1\n"
    assert requirements_diff(new, old) == ["~ anyio 4.8.0 -> 4.9.0", "- idna 3.10", "+ sniffio 1.3.1"]
    assert requirements_diff(new, new) == []


def test_a_virtualenv_that_holds_its_set_exactly_changes_nothing():
    assert sync_changes("Resolved 20 packages in 12ms\nChecked 20 packages in 1ms\nWould make no changes\n") == []


def test_a_package_changed_by_hand_is_named_but_the_apps_own_project_is_not():
    output = ("Would uninstall 3 packages\nWould install 1 package\n - idna==3.7\n + idna==3.10\n - six==1.17.0\n"
              " - greeter==0.1.0\n")
    assert sync_changes(output, "greeter") == ["- idna==3.7", "+ idna==3.10", "- six==1.17.0"]
