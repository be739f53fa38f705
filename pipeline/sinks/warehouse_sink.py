"""What a warehouse sink is: a DoFn that writes rows in per-table batches and dead-letters refusals.

A new sink subclasses :class:`WarehouseSinkFn` and implements :meth:`write`
(one table's batch in, the refused rows out; ``SinkUnavailableError`` when the
warehouse could not be written past the sink's bounded retries). A sink whose
requests have a size limit also implements :meth:`encode` (a row as it is
sent, and what it costs in a request) and sets ``max_batch_bytes``. Batching
(:mod:`pipeline.sinks.batches`) and the dead letters of refusals
(:mod:`pipeline.sinks.refusals`) are each their own piece; this class only
wires them together. A message's rows are all written by the end of the
bundle that received them, unless the sink emitted its dead letter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue
from typing_extensions import override

from pipeline.deadletter import DeadLetterElement, delivery_key
from pipeline.errors import SinkRejectedError, SinkUnavailableError
from pipeline.model import FactRow
from pipeline.record import MessageRows
from pipeline.sinks.batches import Batch, Pending, TableBatches
from pipeline.sinks.refusals import Refusal, refusal_dead_letters, unavailable_dead_letters


class WarehouseSinkFn(beam.DoFn):
    """Write each bundle's rows per table in batches; emit dead letters of what was refused.

    Anything :meth:`write` raises other than ``SinkUnavailableError`` is a bug
    and fails the bundle, so its messages are delivered again.
    """

    sink_name: ClassVar[str] = "the warehouse"
    max_batch_rows: ClassVar[int] = 10_000
    max_batch_bytes: ClassVar[int | None] = None
    """Bytes of rows one request may carry (None: no limit); see :meth:`encode`."""

    def __init__(self) -> None:
        self._batches = TableBatches(self.max_batch_rows, self.max_batch_bytes)

    def write(self, table: str, batch: Batch) -> list[Refusal]:
        """Write ``batch`` into ``table``; return the refused rows."""
        raise NotImplementedError

    def encode(self, row: FactRow) -> tuple[Any, int]:
        """Return ``row`` as the sink sends it, and the bytes it takes in a request.

        Raises SinkRejectedError when the row cannot be sent at all (it is then
        dead-lettered with that reason, and the message's other rows are
        still written). By default the row's values, uncounted.
        """
        return row.row, 0

    @override
    def start_bundle(self) -> None:
        self._batches = TableBatches(self.max_batch_rows, self.max_batch_bytes)

    @override
    def process(self, element: list[MessageRows]) -> Iterator[DeadLetterElement]:
        for rows, record in element:
            refused: list[Refusal] = []
            for row in rows:
                try:
                    payload, size = self.encode(row)
                    complete = self._batches.add(Pending(row, record, payload), size)
                except SinkRejectedError as error:
                    refused.append((row, record, str(error)))
                    continue
                for batch in complete:
                    yield from self._write(row.table, batch)
            if refused:
                yield from refusal_dead_letters(self.sink_name, refused[0][0].table, refused)

    @override
    def finish_bundle(self) -> Iterator[Any]:
        for table in self._batches.tables():
            for line in self._write(table, self._batches.take(table)):
                yield WindowedValue(line, 0, (GlobalWindow(),))

    def _write(self, table: str, batch: Batch) -> Iterator[DeadLetterElement]:
        if not batch:
            return
        try:
            refusals = self.write(table, batch)
        except SinkUnavailableError as error:
            positions = range(len(batch)) if error.unwritten is None else error.unwritten
            unwritten = [batch[i] for i in positions]
            yield from unavailable_dead_letters(table, unwritten, error)
            # A message with an unwritten row is replayed whole; the others keep their reason.
            waiting = {delivery_key(pending.record) for pending in unwritten}
            refusals = [r for r in error.refused if delivery_key(r[1]) not in waiting]
        yield from refusal_dead_letters(self.sink_name, table, refusals)
