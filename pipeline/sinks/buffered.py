"""What every warehouse sink shares: per-table batches per bundle, refused rows as dead letters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue
from typing_extensions import override

from pipeline import acks
from pipeline.deadletter import DeadLetterElement, dead_letter, delivery_key, keyed_line
from pipeline.errors import SinkRejectedError, SinkUnavailableError
from pipeline.model import FactRow
from pipeline.record import PubsubRecord
from pipeline.transforms import MessageRows, outcome_counter

Batch = list[tuple[FactRow, PubsubRecord]]
Refusal = tuple[FactRow, PubsubRecord, str]
"""A row the warehouse refused, its source message, and the warehouse's reason."""


def refusal_dead_letters(
    sink: str, table: str, refusals: Iterable[Refusal]
) -> Iterator[DeadLetterElement]:
    """Yield one dead letter per message among ``refusals``, however many rows it lost."""
    reported: set[str] = set()
    for row, record, reason in refusals:
        key = delivery_key(record)
        if key in reported:
            continue
        reported.add(key)
        outcome_counter(row.table, "sink_rejected").inc()
        detail = f"{sink} refused a {table} row ({row.key}): {reason}"
        yield keyed_line(record, dead_letter(record, SinkRejectedError(detail)))


def unavailable_dead_letters(
    table: str, batch: Batch, error: SinkUnavailableError
) -> Iterator[DeadLetterElement]:
    """Yield one dead letter per message with a row among ``batch``, which could not be written."""
    reported: set[str] = set()
    for row, record in batch:
        key = delivery_key(record)
        if key in reported:
            continue
        reported.add(key)
        outcome_counter(row.table, "sink_unavailable").inc()
        yield keyed_line(record, dead_letter(record, SinkUnavailableError(f"{table}: {error}")))


class BufferedSinkFn(beam.DoFn):
    """Buffer each message's rows per table; write a table's batch when full and at bundle end.

    Subclasses implement :meth:`write`, returning the rows the warehouse refused;
    the refusals leave as dead-letter elements. A :class:`SinkUnavailableError`
    (the warehouse could not be written, past the sink's bounded retries)
    dead-letters every message of the batch; anything else :meth:`write`
    raises is a bug and fails the bundle. Locally pulled
    messages are acknowledged once all of the bundle's rows are written (those
    with refused rows by the dead-letter writer instead).
    """

    sink_name: ClassVar[str] = "the warehouse"
    max_batch_rows: ClassVar[int] = 10_000

    def __init__(self) -> None:
        self._buffer: dict[str, Batch] = {}
        self._ack_tokens: set[str] = set()
        self._refused_tokens: set[str] = set()

    def write(self, table: str, batch: Batch) -> list[Refusal]:
        """Write ``batch`` into ``table``; return the refused rows."""
        raise NotImplementedError

    @override
    def start_bundle(self) -> None:
        self._buffer = {}
        self._ack_tokens = set()
        self._refused_tokens = set()

    @override
    def process(self, element: list[MessageRows]) -> Iterator[DeadLetterElement]:
        for rows, record in element:
            if record.ack:
                self._ack_tokens.add(record.ack)
            for row in rows:
                batch = self._buffer.setdefault(row.table, [])
                batch.append((row, record))
                if len(batch) >= self.max_batch_rows:
                    yield from self._flush(row.table)

    @override
    def finish_bundle(self) -> Iterator[Any]:
        for table in list(self._buffer):
            for line in self._flush(table):
                yield WindowedValue(line, 0, (GlobalWindow(),))
        acks.acknowledge(self._ack_tokens - self._refused_tokens)

    def _flush(self, table: str) -> Iterator[DeadLetterElement]:
        batch = self._buffer.pop(table, [])
        if not batch:
            return
        try:
            refusals = self.write(table, batch)
        except SinkUnavailableError as error:
            positions = range(len(batch)) if error.unwritten is None else error.unwritten
            unwritten = [batch[i] for i in positions]
            self._refused_tokens.update(record.ack for _, record in unwritten)
            yield from unavailable_dead_letters(table, unwritten, error)
            # A message with an unwritten row is replayed whole; the others keep their reason.
            waiting = {delivery_key(record) for _, record in unwritten}
            refusals = [r for r in error.refused if delivery_key(r[1]) not in waiting]
            self._refused_tokens.update(record.ack for _, record, _ in refusals)
            yield from refusal_dead_letters(self.sink_name, table, refusals)
            return
        self._refused_tokens.update(record.ack for _, record, _ in refusals)
        yield from refusal_dead_letters(self.sink_name, table, refusals)
