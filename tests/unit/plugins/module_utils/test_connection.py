# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from ansible_collections.asgi.deploy.plugins.module_utils.connection import source_address, ssh_connection


def fake_process(proc, pid, parent, environ, name="sh"):
    folder = proc / str(pid)
    folder.mkdir()
    (folder / "environ").write_bytes(b"\0".join(b"%s=%s" % (k.encode(), v.encode()) for k, v in environ.items()) + b"\0")
    (folder / "stat").write_text("%d (%s) S %d 1 1 0 -1\n" % (pid, name, parent))


def test_ssh_connection_is_read_above_sudo_from_the_login_shell(tmp_path):
    # python (module) <- sh <- sudo (env reset) <- bash -c (the login's, with SSH_CONNECTION) <- sshd
    fake_process(tmp_path, 900, 800, {"PATH": "/usr/bin"})
    fake_process(tmp_path, 800, 700, {"SUDO_USER": "deploy"}, name="sudo) S 1 (x")
    fake_process(tmp_path, 700, 600, {"SSH_CONNECTION": "10.0.2.2 51234 10.0.2.15 22", "USER": "deploy"})
    fake_process(tmp_path, 600, 1, {})
    assert ssh_connection({}, 900, str(tmp_path)) == "10.0.2.2 51234 10.0.2.15 22"
    assert ssh_connection({"SSH_CONNECTION": "own"}, 900, str(tmp_path)) == "own"


def test_no_ssh_connection_above_docker_exec_or_past_an_unreadable_process(tmp_path):
    fake_process(tmp_path, 50, 0, {"PATH": "/usr/bin"})
    assert ssh_connection({}, 50, str(tmp_path)) == ""
    fake_process(tmp_path, 60, 70, {})
    assert ssh_connection({}, 60, str(tmp_path)) == ""


def test_a_source_address_is_neither_loopback_nor_link_local():
    given = ("10.0.0.5", "2001:db8::3%eth0", "127.0.1.1", "::1", "fe80::1%eth0", "169.254.0.7")
    assert [source_address(text) for text in given] == ["10.0.0.5", "2001:db8::3", None, None, None, None]
