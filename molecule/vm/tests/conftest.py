import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "resources", "tests"))

# QEMU writes the guest's serial console here (create.yml).
CONSOLE = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "asgi-vm", "console.log")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed VM test carries the guest's last console lines in its report,
    so a boot that hangs or crawls explains itself in the suite's log."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and os.path.exists(CONSOLE):
        with open(CONSOLE, errors="replace") as handle:
            tail = handle.readlines()[-150:]
        report.sections.append(("guest serial console (last %d lines)" % len(tail), "".join(tail)))
