# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os

from ansible_collections.asgi.deploy.plugins.modules import caddy_config

HEADER = "# asgi.deploy sites: "


def sites_dir(tmp_path):
    folder = tmp_path / "sites.d"
    folder.mkdir()
    (folder / "shop.caddy").write_text(HEADER + '{"name": "shop", "domains": ["shop.example.com"]}\nshop.example.com {}\n')
    (folder / "blog.caddy").write_text(HEADER + '{"name": "blog", "domains": ["blog.example.com"]}\nblog.example.com {}\n')
    (folder / "notes.txt").write_text("not a sites file\n")
    return str(folder)


def test_the_other_apps_sites_and_their_headers(tmp_path):
    folder = sites_dir(tmp_path)
    others = caddy_config.others(folder, "shop")
    assert sorted(others) == ["blog.caddy"]
    assert caddy_config.taken(folder, others, HEADER) == [
        os.path.join(folder, "blog.caddy") + ':' + HEADER + '{"name": "blog", "domains": ["blog.example.com"]}']
    assert caddy_config.others(str(tmp_path / "missing"), "shop") == {}


class Module:
    """What validate() needs of AnsibleModule: run_command, recording the layout it was shown."""

    def __init__(self, rc, out=""):
        self.rc, self.out, self.seen = rc, out, None

    def run_command(self, argv):
        config = argv[argv.index("--config") + 1]
        folder = os.path.dirname(config)
        self.seen = {"main": open(config).read(),
                     "sites": {name: open(os.path.join(folder, "sites.d", name)).read()
                               for name in sorted(os.listdir(os.path.join(folder, "sites.d")))}}
        return self.rc, self.out, ""


def test_the_candidate_is_checked_with_every_other_apps_sites_and_removed():
    module = Module(0)
    assert caddy_config.validate(module, "caddy", "{ }\nimport sites.d/*.caddy\n", "shop", "shop {}\n",
                                 {"blog.caddy": "blog {}\n"}) == (True, "")
    assert module.seen == {"main": "{ }\nimport sites.d/*.caddy\n",
                           "sites": {"blog.caddy": "blog {}\n", "shop.caddy": "shop {}\n"}}


def test_a_refusal_says_what_caddy_said():
    module = Module(1, "2026/12/02 info using config\nError: adapting config using caddyfile: unrecognized "
                       "directive: no_such_directive\n")
    valid, problem = caddy_config.validate(module, "caddy", "", "shop", "", {})
    assert not valid and problem == "Error: adapting config using caddyfile: unrecognized directive: no_such_directive"
