"""What a warehouse sink sends to the dead letters: refused rows and unwritable batches.

A message becomes one dead letter however many of its rows were refused:
``sink_rejected`` when the warehouse refused a row (a replay would be refused
again until the cause is fixed), ``sink_unavailable`` when it could not be
written at all (replay it once the warehouse is back).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pipeline.counters import outcome_counter
from pipeline.deadletter import DeadLetterElement, dead_letter, delivery_key, keyed_line
from pipeline.errors import SinkRejectedError, SinkUnavailableError
from pipeline.model import FactRow
from pipeline.record import PubsubRecord
from pipeline.sinks.batches import Batch

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
    for row, record, _ in batch:
        key = delivery_key(record)
        if key in reported:
            continue
        reported.add(key)
        outcome_counter(row.table, "sink_unavailable").inc()
        yield keyed_line(record, dead_letter(record, SinkUnavailableError(f"{table}: {error}")))
