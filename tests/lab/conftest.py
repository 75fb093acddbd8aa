"""Print the diagnosis scorecard in the terminal summary when the run produced one."""

from __future__ import annotations

import pytest

from tests.lab import scorecard


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if scorecard.LAST_TABLE:
        terminalreporter.write_sep("=", "diagnosis scorecard")
        terminalreporter.write_line(scorecard.LAST_TABLE[-1])
