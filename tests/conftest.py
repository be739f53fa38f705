"""Session-wide reporting: skipped emulator tests are said out loud, never silently."""

from __future__ import annotations

import pytest

from tests.integration.conftest import NO_CLI_SKIP


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """End the run with one line counting the emulator tests this machine could not run."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if NO_CLI_SKIP in str(getattr(report, "longrepr", ""))
    ]
    if skipped:
        terminalreporter.write_line(
            f"WARNING: {len(skipped)} {NO_CLI_SKIP} on this machine; they run (and must pass) "
            "wherever gcloud is installed",
            yellow=True,
            bold=True,
        )
