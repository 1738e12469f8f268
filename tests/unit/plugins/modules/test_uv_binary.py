# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_binary against a package index served on loopback: the wheel it picks,
its hash check, and that a present version costs no request."""
from __future__ import annotations

import hashlib
import http.server
import io
import json
import sys
import threading
import zipfile

import pytest
from ansible.module_utils import basic

from ansible_collections.asgi.deploy.plugins.modules import uv_binary as ub

VERSION = "0.13.9"
WHEEL = "uv-%s-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" % VERSION
MUSL = "uv-%s-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64.whl" % VERSION
ARM = "uv-%s-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl" % VERSION


def wheel_bytes(binary=b"#!/bin/sh\necho uv\n"):
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as wheel:
        wheel.writestr("uv-%s.data/scripts/uv" % VERSION, binary)
        wheel.writestr("uv-%s.dist-info/METADATA" % VERSION, "Name: uv\n")
    return data.getvalue()


def page(files):
    links = "".join('<a href="../../files/%s#sha256=%s">%s</a><br/>\n' % (name, digest, name)
                    for name, digest in files)
    return "<!DOCTYPE html><html><body><h1>Links for uv</h1>\n%s</body></html>" % links


@pytest.fixture
def index():
    """A PEP 503 index on 127.0.0.1 with one uv wheel; counts its requests."""
    served = {"/files/" + WHEEL: wheel_bytes()}
    state = {"requests": 0, "digest": hashlib.sha256(served["/files/" + WHEEL]).hexdigest()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            state["requests"] += 1
            if self.path == "/simple/uv/":
                body = page([(WHEEL, state["digest"]), (ARM, "00" * 32)]).encode()
            elif self.path in served:
                body = served[self.path]
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["url"] = "http://127.0.0.1:%d/simple" % server.server_address[1]
    yield state
    server.shutdown()


def run_module(monkeypatch, capsys, **params):
    # AnsibleModule reads its arguments once per process unless told again.
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", None)
    monkeypatch.setattr(sys, "argv", ["uv_binary", json.dumps({"ANSIBLE_MODULE_ARGS": params})])
    monkeypatch.setattr(ub.platform, "machine", lambda: "x86_64")
    with pytest.raises(SystemExit):
        ub.main()
    return json.loads(capsys.readouterr().out)


def test_picks_the_plain_manylinux_wheel_for_the_machine():
    links = [(MUSL, "https://x/%s#sha256=aa" % MUSL), (WHEEL, "https://x/%s#sha256=bb" % WHEEL),
             (ARM, "https://x/%s#sha256=cc" % ARM)]
    assert ub.pick_wheel(links, VERSION, "x86_64") == (WHEEL, "https://x/" + WHEEL, "bb")
    assert ub.pick_wheel(links, VERSION, "arm64")[0] == ARM


def test_no_wheel_for_the_version_names_what_the_index_has():
    with pytest.raises(ValueError, match=r"no uv 9\.9\.9 wheel for x86_64 linux; versions it has: 0\.13\.9"):
        ub.pick_wheel([(WHEEL, "https://x/%s#sha256=bb" % WHEEL)], "9.9.9", "x86_64")


def test_a_wheel_without_a_hash_is_refused():
    with pytest.raises(ValueError, match="no sha256"):
        ub.pick_wheel([(WHEEL, "https://x/" + WHEEL)], VERSION, "x86_64")


def test_links_are_read_from_the_page_relative_to_it():
    links = ub.wheel_links(page([(WHEEL, "ab")]), "http://i/simple/uv/")
    assert links == [(WHEEL, "http://i/files/%s#sha256=ab" % WHEEL)]


def test_installs_then_costs_no_request(index, tmp_path, monkeypatch, capsys):
    result = run_module(monkeypatch, capsys, version=VERSION, dest=str(tmp_path), index_url=index["url"])
    assert result["changed"] and result["wheel"] == WHEEL, result
    assert (tmp_path / VERSION / "uv").read_bytes() == b"#!/bin/sh\necho uv\n"
    assert (tmp_path / VERSION / "uv").stat().st_mode & 0o777 == 0o755
    requests = index["requests"]
    again = run_module(monkeypatch, capsys, version=VERSION, dest=str(tmp_path), index_url=index["url"])
    assert not again["changed"] and index["requests"] == requests


def test_a_wheel_whose_hash_differs_is_not_installed(index, tmp_path, monkeypatch, capsys):
    index["digest"] = "0" * 64
    result = run_module(monkeypatch, capsys, version=VERSION, dest=str(tmp_path), index_url=index["url"])
    assert result["failed"] and "but the index says" in result["msg"], result
    assert not (tmp_path / VERSION / "uv").exists()


def test_an_unreachable_index_says_which_settings_help(tmp_path, monkeypatch, capsys):
    result = run_module(monkeypatch, capsys, version=VERSION, dest=str(tmp_path),
                        index_url="http://127.0.0.1:9/simple", timeout=5)
    assert result["failed"] and "app_package_index_url" in result["msg"] and "app_package_index_ca_bundle" in result["msg"]


def test_a_token_in_the_index_url_stays_out_of_the_message(tmp_path, monkeypatch, capsys):
    result = run_module(monkeypatch, capsys, version=VERSION, dest=str(tmp_path),
                        index_url="http://user:s3cret-token@127.0.0.1:9/simple", timeout=5)
    assert result["failed"] and "http://***@127.0.0.1:9/simple/uv/" in result["msg"], result["msg"]
    assert "s3cret" not in result["msg"] and "user" not in result["msg"]


def test_without_credentials_keeps_a_plain_url():
    assert ub.without_credentials("https://pypi.org/simple/uv/") == "https://pypi.org/simple/uv/"
    assert ub.without_credentials("https://__token__:abc@mirror.example:8443/simple/") == "https://***@mirror.example:8443/simple/"


def test_a_version_that_is_not_a_release_is_refused(tmp_path, monkeypatch, capsys):
    result = run_module(monkeypatch, capsys, version="latest", dest=str(tmp_path))
    assert result["failed"] and "0.13.9" in result["msg"]
