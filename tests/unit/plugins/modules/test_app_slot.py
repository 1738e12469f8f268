# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from ansible_collections.asgi.deploy.plugins.module_utils.layout import app_layout
from ansible_collections.asgi.deploy.plugins.modules import app_slot


@pytest.mark.parametrize("environment, exec_start, expected", [
    ("ASGI_DEPLOY_WORKERS=4 LANG=C", "{ path=/v/uvicorn ; argv[]=/v/uvicorn a:b --workers ${ASGI_DEPLOY_WORKERS} ; }", 4),
    # Units of earlier versions name the count on the command line.
    ("", "{ path=/v/uvicorn ; argv[]=/v/uvicorn a:b --fd 3 --workers 3 --proxy-headers ; }", 3),
    ("", "{ path=/v/uvicorn ; argv[]=/v/uvicorn a:b --fd 3 ; }", 1),
    ("", "", 0),
])
def test_the_count_a_unit_runs_at_full_size(environment, exec_start, expected):
    assert app_slot.configured_workers(environment, exec_start) == expected


def test_links_are_replaced_atomically_and_only_when_they_differ(tmp_path):
    path = str(tmp_path / "shop.sock")
    assert app_slot.link("/run/shop/blue.sock", path) is True
    assert app_slot.link("/run/shop/blue.sock", path) is False
    assert app_slot.link("/run/shop/green.sock", path) is True
    assert os.readlink(path) == "/run/shop/green.sock"
    assert os.listdir(str(tmp_path)) == ["shop.sock"]
    # A socket file of the single-slot layout is replaced by the link too.
    plain = tmp_path / "plain.sock"
    plain.write_text("")
    assert app_slot.link("/run/shop/blue.sock", str(plain)) and os.readlink(str(plain)) == "/run/shop/blue.sock"


def test_files_are_written_whole_and_only_when_they_differ(tmp_path):
    path = str(tmp_path / "f")
    assert app_slot.write_file(path, "a\n") and not app_slot.write_file(path, "a\n")
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    assert app_slot.remove(path) and not app_slot.remove(path)


def test_the_boot_entry_links_the_stable_path_to_the_slot():
    line = app_slot.tmpfiles_line(app_layout("shop"), "green").splitlines()[-1]
    assert line == "L+ /run/shop/shop.sock - - - - /run/shop/green.sock"


def test_the_hold_queues_on_its_socket_and_hands_over_to_the_target():
    layout = app_layout("shop")
    command = app_slot.hold_command(layout, "asgi-web", 125, ["NoNewPrivileges=yes"])
    assert command[:5] == ["systemd-run", "--quiet", "--collect", "--unit", "shop-hold"]
    assert "--socket-property=ListenStream=/run/shop/hold.sock" in command
    assert "--socket-property=SocketGroup=asgi-web" in command
    # Given up after the bound: the service ends, and the socket fails at its next trigger.
    assert "--property=RuntimeMaxSec=125s" in command and "--socket-property=TriggerLimitBurst=1" in command
    assert command[-3:-1] == ["/bin/sh", "-c"]
    script = command[-1]
    assert script.startswith("until [ -S /run/shop/hold-target.sock ]; do sleep 0.1; done; exec ")
    assert script.endswith(" /run/shop/hold-target.sock")
    # systemd would expand these in a unit's command line.
    assert "$" not in script and "%" not in script
    # The sandbox as given, and the group to reach a slot's socket.
    assert command.index("--property=NoNewPrivileges=yes") > command.index("--property=SupplementaryGroups=asgi-web")


class Journal(object):
    """A module whose journalctl answers with each read in turn, the last one again when they run out."""

    def __init__(self, reads):
        self.reads, self.argv = list(reads), []

    def get_bin_path(self, name, required=False):
        return "/usr/bin/" + name

    def run_command(self, argv):
        self.argv.append(argv)
        return 0, self.reads.pop(0) if len(self.reads) > 1 else self.reads[0], ""


def read_journal(reads):
    module, now = Journal(reads), [0.0]

    def sleep(seconds):
        now[0] += seconds

    lines = app_slot.Host(module).journal("shop@green.service", sleep=sleep, clock=lambda: now[0])
    return lines, len(module.argv), now[0]


def test_a_journal_still_being_written_is_read_again_until_it_is_quiet():
    # The traceback of the last failed health check, taken in by journald line by line.
    top = "ERROR:    Exception in ASGI application\nTraceback (most recent call last):\n-- cursor: s=a;i=2\n"
    whole = "ERROR:    Exception in ASGI application\nTraceback (most recent call last):\n" \
            "RuntimeError: health check broken on purpose\n-- cursor: s=a;i=3\n"
    lines, reads, waited = read_journal([top, whole, whole])
    assert lines[-1] == "RuntimeError: health check broken on purpose"
    assert (reads, waited) == (3, 2 * app_slot.JOURNAL_QUIET)


def test_a_unit_that_never_stops_logging_is_read_once_the_settle_time_is_up():
    reads = ["request %d\n-- cursor: s=a;i=%d\n" % (n, n) for n in range(100)]
    lines, reads_made, waited = read_journal(reads)
    assert waited >= app_slot.JOURNAL_SETTLE and reads_made == int(app_slot.JOURNAL_SETTLE / app_slot.JOURNAL_QUIET) + 2
    assert lines and not any(line.startswith("-- cursor:") for line in lines)


def test_a_unit_with_no_entries_is_read_twice_and_gives_no_lines():
    assert read_journal(["-- No entries --\n"])[:2] == (["-- No entries --"], 2)


def run_locally(argv, data=None):
    done = subprocess.run(argv, input=data, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def release_with_python(tmp_path):
    release = tmp_path / "releases" / "3f2a9c0d1e2b"
    (release / "venv" / "bin").mkdir(parents=True)
    (release / "venv" / "bin" / "python").symlink_to(sys.executable)
    (release / "app").mkdir()
    for name in ("main.py", "unused.py"):
        (release / "app" / name).write_text("VALUE = 1\n")
    (tmp_path / "elsewhere.py").write_text("VALUE = 2\n")
    return release


def test_the_imported_files_of_the_release_are_compiled_beside_their_source(tmp_path):
    release = release_with_python(tmp_path)
    compiled, problem = app_slot.compile_bytecode(run_locally, str(release),
                                                  ["app/main.py", "../../elsewhere.py", "app/../../../elsewhere.py"])
    assert (compiled, problem) == (1, None)
    assert os.path.exists(importlib.util.cache_from_source(str(release / "app" / "main.py")))
    # Only what was named, and nothing outside the release.
    assert not os.path.exists(importlib.util.cache_from_source(str(release / "app" / "unused.py")))
    assert not os.path.exists(importlib.util.cache_from_source(str(tmp_path / "elsewhere.py")))


def test_a_file_that_does_not_compile_is_named_and_nothing_fails(tmp_path):
    release = release_with_python(tmp_path)
    (release / "app" / "broken.py").write_text("def (:\n")
    compiled, problem = app_slot.compile_bytecode(run_locally, str(release), ["app/main.py", "app/broken.py"])
    assert compiled == 2 and problem == "Error compiling '%s'" % (release / "app" / "broken.py")


def test_nothing_to_compile_runs_nothing(tmp_path):
    calls = []
    assert app_slot.compile_bytecode(lambda argv, data=None: calls.append(argv), str(tmp_path), []) == (0, None)
    assert calls == []
