"""Rows gathered per table until a batch is full, by rows or by request bytes, or the bundle ends.

A warehouse takes one table's rows per request, up to a number of rows and a
number of bytes (BigQuery: ``insertAll`` 500 rows and 10 MB, ``AppendRows``
10 MB). Each sink says what one of its rows costs in its request (the row's
JSON for ``insertAll``, its serialized proto for ``AppendRows``, with the
framing around it); a batch is cut before the row that would take it over
the budget, which the sink sets below the request limit by a margin for the
rest of the request (names, schema, flags). A row that alone exceeds the
budget can never be sent: it is refused here, and becomes a dead letter of
its message with that reason.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pipeline.errors import SinkRejectedError
from pipeline.model import FactRow
from pipeline.record import PubsubRecord


class Pending(NamedTuple):
    """A row waiting to be written: the fact row, its source message, and what the sink sends."""

    row: FactRow
    record: PubsubRecord
    payload: Any
    """The row as the sink sends it (the row's values, serialized proto rows, ...)."""


Batch = list[Pending]
"""Rows of one table to write together."""


class TableBatches:
    """Per-table batches of at most ``max_rows`` rows and ``max_bytes`` bytes (None: no limit)."""

    def __init__(self, max_rows: int, max_bytes: int | None = None) -> None:
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._batches: dict[str, Batch] = {}
        self._bytes: dict[str, int] = {}

    def add(self, pending: Pending, size: int = 0) -> list[Batch]:
        """Add a row that costs ``size`` bytes in a request; return the batches now complete.

        The table's batch is cut before this row when the row would take it
        over ``max_bytes``, and after it when it reaches ``max_rows``. Raises
        SinkRejectedError, adding nothing, when the row alone exceeds ``max_bytes``.
        """
        table = pending.row.table
        if self.max_bytes is None:  # rows only: nothing to weigh
            batch = self._batches.get(table)
            if batch is None:
                batch = self._batches[table] = []
            batch.append(pending)
            return [self.take(table)] if len(batch) >= self.max_rows else []
        if size > self.max_bytes:
            raise SinkRejectedError(
                f"not sent: the row takes {size:,} bytes in a request, over the "
                f"{self.max_bytes:,}-byte budget of one request"
            )
        complete = []
        held = self._bytes.get(table, 0)
        if table in self._batches and held + size > self.max_bytes:
            complete.append(self.take(table))
        batch = self._batches.setdefault(table, [])
        batch.append(pending)
        self._bytes[table] = self._bytes.get(table, 0) + size
        if len(batch) >= self.max_rows:
            complete.append(self.take(table))
        return complete

    def take(self, table: str) -> Batch:
        """Remove and return ``table``'s batch (empty when there is none)."""
        self._bytes.pop(table, None)
        return self._batches.pop(table, [])

    def tables(self) -> list[str]:
        """Return the tables with rows waiting."""
        return list(self._batches)
