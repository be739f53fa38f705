"""Session-wide: skipped emulator tests are said out loud, and no real schema service is read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ecom_contracts import SchemaLookupError
from pipeline import revisions
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


class _NoSchemaService:
    """The schema service of in-process pipelines in the tests: none, so none is reached."""

    def definition(self, revision: str) -> str:
        raise SchemaLookupError(f"{revision}: the tests reach no real Pub/Sub schema service")


@pytest.fixture(autouse=True, scope="session")
def no_real_schema_service() -> Iterator[None]:
    """Pipelines run in this process read schema revisions from nowhere real.

    A message naming a Pub/Sub schema revision (and no ``ecom_revision``) is
    then reported as revision ``unknown``, whatever credentials the machine
    has; a test that reads revisions hands ``route`` or ``process`` its own
    resolver (``tests/schema_service.py``).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(revisions, "RESOLVER", revisions.RevisionResolver(_NoSchemaService()))
        yield
