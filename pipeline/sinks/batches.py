"""Rows gathered per table until a batch is full or the bundle ends."""

from __future__ import annotations

from pipeline.model import FactRow
from pipeline.record import PubsubRecord
from pipeline.sinks.refusals import Batch


class TableBatches:
    """Per-table batches of rows with their messages, at most ``max_rows`` each."""

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._batches: dict[str, Batch] = {}

    def add(self, row: FactRow, record: PubsubRecord) -> bool:
        """Add a row; return whether its table's batch is now full."""
        batch = self._batches.setdefault(row.table, [])
        batch.append((row, record))
        return len(batch) >= self.max_rows

    def take(self, table: str) -> Batch:
        """Remove and return ``table``'s batch (empty when there is none)."""
        return self._batches.pop(table, [])

    def tables(self) -> list[str]:
        """Return the tables with rows waiting."""
        return list(self._batches)
