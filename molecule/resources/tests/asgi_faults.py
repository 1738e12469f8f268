"""The fault table: tests that inject a fault fill in a row (fault, what must
happen, what was seen), and the run ends with the table, each row marked
with its test's outcome. tests/run.sh gathers the rows of every scenario.

A scenario's conftest.py imports the fixture and both hooks."""
import pytest

ROWS = []
# tests/run.sh greps for this prefix.
PREFIX = "fault-table |"


class Row:
    def __init__(self, scenario):
        self.scenario = scenario
        self.fault = self.expected = ""
        self.observed = "(not reached)"


@pytest.fixture
def fault(request, host):
    """Fill in fault.fault, .expected and .observed; the outcome is added."""
    row = Row(host.backend.get_hostname())
    yield row
    report = getattr(request.node, "asgi_call_report", None)
    ROWS.append((row, "PASS" if report is not None and report.passed else "FAIL"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when == "call":
        item.asgi_call_report = outcome.get_result()


def pytest_terminal_summary(terminalreporter):
    if not ROWS:
        return
    terminalreporter.section("fault table")
    for row, outcome in ROWS:
        terminalreporter.write_line(" | ".join(
            [PREFIX.rstrip(" |"), row.scenario, row.fault, row.expected, row.observed, outcome]))
