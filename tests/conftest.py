"""Session-wide reporting: skipped emulator tests are said out loud, never silently."""

from __future__ import annotations

import pytest

from tests.integration.conftest import NO_CLI_SKIP, NO_PYTHON_313_SKIP

WHERE_THEY_RUN = {
    NO_CLI_SKIP: "wherever gcloud is installed",
    NO_PYTHON_313_SKIP: "wherever Python 3.13 is installed",
}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """End the run with one line per emulator counting the tests this machine could not run."""
    reasons = [str(getattr(r, "longrepr", "")) for r in terminalreporter.stats.get("skipped", [])]
    for skip, where in WHERE_THEY_RUN.items():
        count = sum(skip in reason for reason in reasons)
        if count:
            terminalreporter.write_line(
                f"WARNING: {count} {skip} on this machine; they run (and must pass) {where}",
                yellow=True,
                bold=True,
            )
