# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every plugin's DOCUMENTATION, EXAMPLES and RETURN is YAML: ansible-doc,
the sanity tests and galaxy-importer refuse a module whose text is not (a
': ' in a plain description reads as a key), and they run minutes later."""
from __future__ import annotations

import ast
import glob
import os

import pytest
import yaml

PLUGINS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "plugins")
FILES = sorted(path for kind in ("action", "doc_fragments", "filter", "lookup", "modules")
               for path in glob.glob(os.path.join(PLUGINS, kind, "*.py")) if not path.endswith("__init__.py"))


def documents(path):
    """{name: text} of the module-level string constants ansible-doc reads."""
    with open(path) as handle:
        tree = ast.parse(handle.read())
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
                    found[target.id] = node.value.value
    return found


def test_there_are_plugins_with_documentation():
    assert sum(1 for path in FILES if "DOCUMENTATION" in documents(path)) >= 20


@pytest.mark.parametrize("path", FILES, ids=lambda path: os.path.relpath(path, PLUGINS))
def test_the_documentation_is_yaml(path):
    for name, text in documents(path).items():
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as error:
            pytest.fail("%s of %s is not YAML: %s" % (name, os.path.relpath(path, PLUGINS), error))


def test_a_colon_and_space_in_a_plain_description_is_caught():
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load("description:\n  - A record with the same settings does: only the source differs.\n"
                       "    More text.\n")
