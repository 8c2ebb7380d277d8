"""Print the inventory of documentation code blocks (run, Azure, shown, skipped) after a run."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.docs.test_doc_blocks import inventory

    terminalreporter.write_line(inventory())
