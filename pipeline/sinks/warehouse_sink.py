"""What a warehouse sink is: a DoFn that writes rows in per-table batches and dead-letters refusals.

A new sink subclasses :class:`WarehouseSinkFn` and implements :meth:`write`
(one table's batch in, the refused rows out; ``SinkUnavailableError`` when the
warehouse could not be written past the sink's bounded retries). Batching
(:mod:`pipeline.sinks.batches`), the dead letters of refusals
(:mod:`pipeline.sinks.refusals`) and acknowledgement (:class:`pipeline.acks.PendingAcks`)
are each their own piece; this class only wires them together.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue
from typing_extensions import override

from pipeline.acks import PendingAcks
from pipeline.deadletter import DeadLetterElement, delivery_key
from pipeline.errors import SinkUnavailableError
from pipeline.record import MessageRows
from pipeline.sinks.batches import TableBatches
from pipeline.sinks.refusals import Batch, Refusal, refusal_dead_letters, unavailable_dead_letters


class WarehouseSinkFn(beam.DoFn):
    """Write each bundle's rows per table in batches; emit dead letters of what was refused.

    Anything :meth:`write` raises other than ``SinkUnavailableError`` is a bug
    and fails the bundle, so its messages are delivered again.
    """

    sink_name: ClassVar[str] = "the warehouse"
    max_batch_rows: ClassVar[int] = 10_000

    def __init__(self) -> None:
        self._batches = TableBatches(self.max_batch_rows)
        self._acks = PendingAcks()

    def write(self, table: str, batch: Batch) -> list[Refusal]:
        """Write ``batch`` into ``table``; return the refused rows."""
        raise NotImplementedError

    @override
    def start_bundle(self) -> None:
        self._batches = TableBatches(self.max_batch_rows)
        self._acks = PendingAcks()

    @override
    def process(self, element: list[MessageRows]) -> Iterator[DeadLetterElement]:
        for rows, record in element:
            self._acks.note(record.ack)
            for row in rows:
                if self._batches.add(row, record):
                    yield from self._flush(row.table)

    @override
    def finish_bundle(self) -> Iterator[Any]:
        for table in self._batches.tables():
            for line in self._flush(table):
                yield WindowedValue(line, 0, (GlobalWindow(),))
        self._acks.acknowledge()

    def _flush(self, table: str) -> Iterator[DeadLetterElement]:
        batch = self._batches.take(table)
        if not batch:
            return
        try:
            refusals = self.write(table, batch)
        except SinkUnavailableError as error:
            positions = range(len(batch)) if error.unwritten is None else error.unwritten
            unwritten = [batch[i] for i in positions]
            self._acks.hand_over(record.ack for _, record in unwritten)
            yield from unavailable_dead_letters(table, unwritten, error)
            # A message with an unwritten row is replayed whole; the others keep their reason.
            waiting = {delivery_key(record) for _, record in unwritten}
            refusals = [r for r in error.refused if delivery_key(r[1]) not in waiting]
        self._acks.hand_over(record.ack for _, record, _ in refusals)
        yield from refusal_dead_letters(self.sink_name, table, refusals)
