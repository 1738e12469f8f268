# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os

from ansible_collections.asgi.deploy.plugins.modules.utilization_facts import claims, serving_unit


def test_the_slot_the_stable_path_links_to(tmp_path):
    (tmp_path / "shop").mkdir()
    os.symlink(str(tmp_path / "shop" / "green.sock"), str(tmp_path / "shop" / "shop.sock"))
    assert serving_unit("shop", run_dir=str(tmp_path)) == "shop@green.service"


def test_a_host_of_the_single_slot_layout(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "shop.sock").write_text("")
    assert serving_unit("shop", run_dir=str(tmp_path)) == "shop.service"
    assert serving_unit("other", run_dir=str(tmp_path)) == "other.service"


def test_every_claimed_app_with_its_budget(tmp_path):
    (tmp_path / "shop.json").write_text('{"user": "shop", "per_worker_mb": 192, "workers_per_cpu": 1}')
    (tmp_path / "old.json").write_text('{"user": "old"}')
    (tmp_path / "torn.json").write_text('{"user"')
    assert claims(str(tmp_path)) == {"shop": {"user": "shop", "per_worker_mb": 192, "workers_per_cpu": 1},
                                     "old": {"user": "old"}, "torn": {}}
