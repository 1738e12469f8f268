"""Every role's meta/argument_specs.yml agrees with its defaults/main.yml:
the same variables, the same defaults, and every entry point the same spec."""
from __future__ import annotations

import pathlib

import pytest
import yaml

ROLES = pathlib.Path(__file__).resolve().parents[3] / "roles"
ROLE_NAMES = sorted(p.name for p in ROLES.iterdir() if (p / "meta" / "argument_specs.yml").exists())


def load(role, *parts):
    return yaml.safe_load((ROLES / role).joinpath(*parts).read_text())


def test_every_role_has_a_spec():
    assert ROLE_NAMES == sorted(p.name for p in ROLES.iterdir() if p.is_dir())


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_spec_and_defaults_name_the_same_variables(role):
    options = load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load(role, "defaults", "main.yml")
    assert sorted(options) == sorted(defaults)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_spec_defaults_match(role):
    options = load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load(role, "defaults", "main.yml")
    for name, option in options.items():
        assert "default" in option, "%s: %s has no default in the spec" % (role, name)
        assert option["default"] == defaults[name], "%s: %s" % (role, name)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_variables_carry_the_role_prefix(role):
    for name in load(role, "defaults", "main.yml"):
        assert name.startswith(role + "_"), name


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_option_is_described(role):
    for entry, spec in load(role, "meta", "argument_specs.yml")["argument_specs"].items():
        for name, option in spec["options"].items():
            assert option.get("description"), "%s %s: %s" % (role, entry, name)
