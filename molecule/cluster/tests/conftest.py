import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "resources", "tests"))

from asgi_faults import fault, pytest_runtest_makereport, pytest_terminal_summary  # noqa: E402,F401  pylint: disable=unused-import
