# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import os

from ansible_collections.asgi.deploy.plugins.modules import app_base


class Module:
    check_mode = False


def test_the_claim_is_written_once_and_read_as_json(tmp_path):
    base = app_base.Base(Module())
    claim = {"user": "shop", "groups": ["shop", "asgi-web"], "tcp_port": 0, "workers": "auto"}
    base.claim(str(tmp_path), "shop", claim)
    assert base.done == ["claim %s" % os.path.join(str(tmp_path), "shop.json")]
    assert json.loads((tmp_path / "shop.json").read_text()) == claim
    assert oct(os.stat(str(tmp_path / "shop.json")).st_mode & 0o777) == "0o644"
    base.claim(str(tmp_path), "shop", claim)
    assert len(base.done) == 1


def test_check_mode_says_and_writes_nothing(tmp_path):
    module = Module()
    module.check_mode = True
    base = app_base.Base(module)
    base.claim(str(tmp_path), "shop", {"user": "shop"})
    base.folder(str(tmp_path / "opt"), "0755", "root", "root")
    assert len(base.done) == 2 and os.listdir(str(tmp_path)) == []
