# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.asgi.deploy.plugins.filter.bad_env_keys import bad_env_keys


def test_good_environment_has_no_bad_keys():
    assert bad_env_keys({"DATABASE_URL": "postgresql://x", "_PRIVATE": "", "N2": 3}) == []


def test_names_that_are_not_variable_names():
    assert bad_env_keys({"2FAST": "x", "with-dash": "x", "ok": "x", "a b": "x"}) == ["2FAST", "a b", "with-dash"]


def test_values_on_several_lines():
    assert bad_env_keys({"A": "one\ntwo", "B": "cr\r", "C": "fine"}) == ["A", "B"]


def test_empty_values_refused_only_when_asked():
    env = {"TOKEN": "", "NONE": None, "SET": "x"}
    assert bad_env_keys(env) == []
    assert bad_env_keys(env, allow_empty=False) == ["NONE", "TOKEN"]


def test_never_returns_values():
    assert "s3cret" not in repr(bad_env_keys({"BAD KEY": "s3cret"}, allow_empty=False))


def test_not_a_dict():
    with pytest.raises(AnsibleFilterError, match="expects a dict"):
        bad_env_keys(["A=1"])


def test_mappings_and_lists_are_not_values():
    # They would reach the app as Python's repr ("{'a': 1}"), not as what they look like.
    assert bad_env_keys({"OPTS": {"a": 1}, "HOSTS": ["a", "b"], "PORT": 8000, "ON": True}) == ["HOSTS", "OPTS"]


def test_the_names_the_collection_sets_are_refused():
    assert bad_env_keys({"ASGI_DEPLOY_WORKERS": "9", "ASGI_DEPLOY_RELEASE": "x", "ASGI_OTHER": "y"}) == [
        "ASGI_DEPLOY_RELEASE", "ASGI_DEPLOY_WORKERS"]
