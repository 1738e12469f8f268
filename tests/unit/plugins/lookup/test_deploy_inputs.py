# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os

import pytest

from ansible_collections.asgi.deploy.plugins.lookup import deploy_inputs


def test_the_collection_digest_follows_its_files_content_but_not_bytecode(tmp_path):
    (tmp_path / "roles" / "app" / "tasks").mkdir(parents=True)
    (tmp_path / "roles" / "app" / "tasks" / "main.yml").write_text("---\n")
    (tmp_path / "tests").mkdir()
    first = deploy_inputs.tree(str(tmp_path))
    (tmp_path / "tests" / "test_x.py").write_text("x = 1\n")
    (tmp_path / "roles" / "__pycache__").mkdir()
    (tmp_path / "roles" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert deploy_inputs.tree(str(tmp_path)) == first
    (tmp_path / "roles" / "app" / "tasks" / "main.yml").write_text("--- \n")
    assert deploy_inputs.tree(str(tmp_path)) != first


def test_a_source_counts_by_names_sizes_and_times_without_what_is_excluded(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("app = 1\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref\n")
    found = deploy_inputs.fingerprint(str(tmp_path), exclude=[".git"])
    assert [entry[0] for entry in found] == ["app/main.py"]
    os.utime(str(tmp_path / "app" / "main.py"), ns=(1, 1))
    assert deploy_inputs.fingerprint(str(tmp_path), exclude=[".git"]) != found
    with pytest.raises(FileNotFoundError):
        deploy_inputs.fingerprint(str(tmp_path / "missing"))


def test_the_digest_changes_with_any_setting_group_or_source(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("app = 1\n")
    settings = {"": {"app_workers": "auto"}, "web1": {"app_src": str(tmp_path / "src"), "ansible_host": "10.0.0.5"}}
    groups = {"app": ["web1"], "edge": ["web1"]}
    first = deploy_inputs.inputs(settings, groups, "c1")
    assert deploy_inputs.inputs(settings, dict(groups), "c1") == first
    assert deploy_inputs.inputs(settings, groups, "c2") != first
    assert deploy_inputs.inputs(settings, dict(groups, db=["db1"]), "c1") != first
    assert deploy_inputs.inputs(dict(settings, **{"": {"app_workers": 2}}), groups, "c1") != first
    (tmp_path / "src" / "main.py").write_text("app = 22\n")
    assert deploy_inputs.inputs(settings, groups, "c1") != first


def test_only_users_settings_count_not_the_roles_or_playbooks_own():
    prefixes = ("app_", "asgi_")
    assert deploy_inputs.setting("app_workers", prefixes) and deploy_inputs.setting("asgi_serial", prefixes)
    assert not deploy_inputs.setting("asgi__fleet", prefixes) and not deploy_inputs.setting("app__plan", prefixes)
    assert not deploy_inputs.setting("ansible_user", prefixes)
    assert not deploy_inputs.setting("asgi_fast_path", prefixes, ignore=["asgi_fast_path"])


def test_without_the_source_only_the_source_and_the_settings_naming_it_leave_the_digest(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("app = 1\n")
    (tmp_path / "other").mkdir()
    settings = {"": {"app_workers": "auto"}, "web1": {"app_src": str(tmp_path / "src"), "ansible_host": "10.0.0.5"}}
    groups = {"app": ["web1"], "edge": ["web1"]}
    names = ["app_src", "app_package", "app_src_exclude"]
    first = deploy_inputs.inputs(settings, groups, "c1", source_settings=names)
    (tmp_path / "src" / "main.py").write_text("app = 22\n")
    assert deploy_inputs.inputs(settings, groups, "c1", source_settings=names) == first
    moved = {"": {"app_workers": "auto", "app_src": str(tmp_path / "other"), "app_src_exclude": ["x"]},
             "web1": {"ansible_host": "10.0.0.5"}}
    assert deploy_inputs.inputs(moved, groups, "c1", source_settings=names) == first
    assert deploy_inputs.inputs(settings, groups, "c1") != first
    assert deploy_inputs.inputs(dict(settings, **{"": {"app_workers": 2}}), groups, "c1", source_settings=names) != first
    assert deploy_inputs.inputs(settings, dict(groups, db=["db1"]), "c1", source_settings=names) != first
    assert deploy_inputs.inputs(settings, groups, "c2", source_settings=names) != first
