"""Stage 2, the registry revision a message was written as, named from what it carries.

In order of authority:

1. the publisher's ``ecom_revision`` attribute (``r2``, ``r2+dev``);
2. Pub/Sub's ``googclient_schemaname`` and ``googclient_schemarevisionid``:
   the schema revision's definition, read once per process, matched by
   meaning against the released definitions this build carries
   (``ecom_contracts.registry_revision_of``). Revision ids differ per project,
   so nothing maps them ahead of time: the definition names the revision;
3. neither: the revision of the contract this pipeline was built from.

A schema revision that cannot be read (permission, not found, unreachable)
neither fails nor dead-letters its messages: they are reported as
``unknown`` and counted (``<Event>.revision_lookup_failed``). A failed read is
tried again after a delay that doubles up to an hour, and one process reads
at most ``max_lookups`` times, so a broken schema service costs a bounded
number of calls.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ecom_contracts import (
    PubsubSchemaDefinitions,
    SchemaDefinitions,
    SchemaLookupError,
    registry_revision_of,
)

UNKNOWN: Final = "unknown"
"""The revision of a message whose schema revision could not be read or matches no release."""

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resolution:
    """The registry revision a schema revision names: ``r2``, or ``unknown (why)``."""

    revision: str
    lookup_failed: bool = False
    """True when the schema revision could not be read (counted per message)."""


class RevisionResolver:
    """Name Pub/Sub schema revisions by registry revision; one read per revision per process.

    ``schemas`` is where revisions are read (default: Pub/Sub, or the emulator
    by ``PUBSUB_EMULATOR_HOST``); ``definitions`` the released definitions
    (default: this build's). Safe to share between threads: one read at a time.
    """

    def __init__(
        self,
        schemas: SchemaDefinitions | None = None,
        *,
        definitions: dict[str, dict[str, str]] | None = None,
        max_lookups: int = 1000,
        first_retry: float = 60.0,
        max_retry: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._schemas = schemas
        self.definitions = definitions
        self.max_lookups = max_lookups
        self.first_retry = first_retry
        self.max_retry = max_retry
        self.clock = clock
        self.lookups = 0
        """Reads made so far (successful or not)."""
        self._named: dict[tuple[str, str], Resolution] = {}
        self._failed: dict[tuple[str, str], tuple[float, int, Resolution]] = {}
        """Per unreadable revision: when to read it again, failures so far, what to report."""
        self._lock = threading.Lock()
        self._spent_said = False

    @property
    def schemas(self) -> SchemaDefinitions:
        """Where revisions are read; Pub/Sub's client is created on the first read."""
        if self._schemas is None:
            self._schemas = PubsubSchemaDefinitions()
        return self._schemas

    def resolve(self, contract: str, schema_revision: str) -> Resolution:
        """Return the registry revision of ``contract`` that ``schema_revision`` is.

        ``schema_revision`` is ``projects/P/schemas/S@ID``. Never raises for a
        revision that cannot be read: it resolves to ``unknown`` with
        ``lookup_failed`` set.
        """
        key = (contract, schema_revision)
        named = self._named.get(key)
        if named is not None:
            return named
        with self._lock:
            named = self._named.get(key)
            if named is not None:
                return named
            now = self.clock()
            failed = self._failed.get(key)
            if failed is not None and now < failed[0]:
                return failed[2]
            if self.lookups >= self.max_lookups:
                if not self._spent_said:
                    self._spent_said = True
                    _LOG.warning(
                        "%d schema revision lookups made: no more in this process; messages "
                        "of unread revisions are reported as %s",
                        self.max_lookups,
                        UNKNOWN,
                    )
                return Resolution(f"{UNKNOWN} ({schema_revision}: not read)", lookup_failed=True)
            self.lookups += 1
            try:
                definition = self.schemas.definition(schema_revision)
            except SchemaLookupError as error:
                failures = failed[1] + 1 if failed is not None else 1
                delay = min(self.first_retry * 2 ** (failures - 1), self.max_retry)
                _LOG.warning(
                    "schema revision not read (%s): its messages are reported as revision %s; "
                    "read again in %.0f s (the job's service account needs pubsub.schemas.get "
                    "on the schema)",
                    error,
                    UNKNOWN,
                    delay,
                )
                resolution = Resolution(f"{UNKNOWN} ({schema_revision}: not read)", True)
                self._failed[key] = (now + delay, failures, resolution)
                return resolution
            label = registry_revision_of(contract, definition, self.definitions)
            named = Resolution(label or f"{UNKNOWN} ({schema_revision}: no released definition)")
            self._named[key] = named
            self._failed.pop(key, None)
            return named


RESOLVER = RevisionResolver()
"""The process's resolver (its cache is per process); tests hand their own to ``route``."""
