# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.asgi.deploy.plugins.filter.uv_install import requirements_diff, uv_install

UV = "/opt/asgi-deploy/uv/0.13.9/uv"
REL = "/opt/app/releases/abc"
PIP = [UV, "pip", "install", "--python", REL + "/venv/bin/python"]


def settings(**changes):
    base = dict(uv=UV, python="python3", release=REL, lock="uv.lock", project_file="pyproject.toml",
                has_requirements=False, install="auto", requirements_file="requirements.txt", package="",
                uvicorn="uvicorn>=0.30", extra_requirements=[], extra_args=[])
    base.update(changes)
    return base


def test_a_locked_project_installs_the_lock_then_itself_without_dependencies():
    plan = uv_install(settings())
    assert plan["venv"] == [UV, "venv", "--python", "python3", REL + "/venv"]
    assert plan["resolve"] == []
    assert plan["install"] == [PIP + ["--requirements", REL + "/requirements.lock", "uvicorn>=0.30"],
                               PIP + ["--no-deps", REL + "/app"]]


def test_without_a_lock_the_project_and_requirements_are_resolved_with_the_server():
    plan = uv_install(settings(lock="none", has_requirements=True, extra_requirements=["sentry-sdk"],
                               extra_args=["--prerelease", "allow"]))
    assert plan["resolve"] == [UV, "pip", "compile", "--python", "python3", "--no-header", "--quiet",
                               "--prerelease", "allow", REL + "/app/pyproject.toml",
                               REL + "/app/requirements.txt", "-"]
    assert plan["resolve_stdin"] == "uvicorn>=0.30\nsentry-sdk\n"
    assert plan["install"][0] == PIP + ["--prerelease", "allow", "--requirements", REL + "/requirements.lock",
                                        "uvicorn>=0.30", "sentry-sdk"]


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
