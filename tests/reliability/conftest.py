"""Reliability suite: prints what it tried at the end of the run."""

from __future__ import annotations

import pytest

from tests.reliability import tally


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts = tally.snapshot()
    if not counts:
        return
    terminalreporter.section("reliability numbers")
    for what, n in counts.items():
        terminalreporter.write_line(f"{what}: {n}")
