"""Session-wide: skipped emulator tests are said out loud, and no real schema service is read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ecom_contracts import SchemaLookupError
from pipeline import revisions
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
