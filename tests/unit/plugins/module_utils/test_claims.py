# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import os

from ansible_collections.asgi.deploy.plugins.module_utils import claims as hc

TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0
   1: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2222 1 0
   2: 0100007F:1F40 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 3333 1 0
   3: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0
"""


def make_proc(root):
    (root / "net").mkdir(parents=True)
    (root / "net" / "tcp").write_text(TCP)
    (root / "net" / "tcp6").write_text(TCP.splitlines()[0] + "\n")
    for pid, comm, inode in (("1", "systemd", "2222"), ("77", "caddy", "1111"), ("78", "caddy", "9999")):
        (root / pid / "fd").mkdir(parents=True)
        (root / pid / "comm").write_text(comm + "\n")
        os.symlink("socket:[%s]" % inode, str(root / pid / "fd" / "3"))
    return root


def test_only_listening_sockets_count_with_their_holders(tmp_path):
    assert hc.listening_inodes(TCP.splitlines()) == {"1111": (443, 0), "2222": (8000, 0), "4444": (5432, 0)}
    # 5432's process hides its fds: its socket's user is named instead.
    assert hc.listening_ports(str(make_proc(tmp_path / "proc"))) == {
        "443": ["caddy"], "8000": ["systemd"], "5432": ["a process of user root"]}


def test_claims_and_units_of_this_collection(tmp_path):
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "shop.json").write_text(json.dumps({"user": "shop", "groups": ["shop", "shop-web"]}))
    (tmp_path / "apps" / "broken.json").write_text("{")
    assert hc.app_claims(str(tmp_path / "apps")) == {"shop": {"user": "shop", "groups": ["shop", "shop-web"]}}
    (tmp_path / "units").mkdir()
    (tmp_path / "units" / "old.service").write_text("[Unit]\nDescription=old: uvicorn with 2 workers (asgi.deploy)\n")
    (tmp_path / "units" / "old.socket").write_text("[Socket]\nListenStream=0.0.0.0:8000\n")
    (tmp_path / "units" / "unix.service").write_text("Description=unix: uvicorn (asgi.deploy)\n")
    (tmp_path / "units" / "unix.socket").write_text("[Socket]\nListenStream=/run/unix/unix.sock\n")
    (tmp_path / "units" / "nginx.service").write_text("[Unit]\nDescription=nginx\n")
    assert hc.asgi_units(str(tmp_path / "units")) == {"old": 8000, "unix": 0}


SHOW = """Id=shop@blue.service
ActiveState=active
UnitFileState=enabled
MemoryMax=603979776
MemoryCurrent=104857600

Id=shop@green.service
ActiveState=inactive
UnitFileState=disabled
MemoryMax=805306368
MemoryCurrent=[not set]

Id=shop.service
ActiveState=inactive
UnitFileState=not-found
MemoryMax=infinity
MemoryCurrent=[not set]

Id=idle@blue.service
ActiveState=inactive
UnitFileState=disabled
MemoryMax=335544320
MemoryCurrent=[not set]
"""


def test_memory_reserved_by_the_running_or_enabled_slot_only():
    # green is a stopped slot of an earlier release: its larger ceiling is not reserved.
    assert hc.memory_of(["shop", "idle"], SHOW) == {"shop": {"reserved_mb": 576, "used_mb": 100},
                                                    "idle": {"reserved_mb": 0, "used_mb": 0}}
