"""Stages 2 to 5 as a Beam transform: process messages into rows and dead letters."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import apache_beam as beam
from apache_beam.metrics.metric import Metrics
from apache_beam.pvalue import PCollection
from typing_extensions import override

from pipeline import coders  # noqa: F401  (registers the coders of records and rows)
from pipeline.counters import NAMESPACE, outcome_counter
from pipeline.deadletter import REASON_NAMES, keyed_line
from pipeline.heap import prepare_worker_heap
from pipeline.process import process
from pipeline.record import MessageRows, PubsubRecord

ROWS = "rows"
DEAD_LETTERS = "dead_letters"


class ProcessFn(beam.DoFn):
    """Route, decode, validate and model messages; rows to ``rows``, failures to dead letters.

    An element is one PubsubRecord (from Pub/Sub) or a list of them (replay
    files are read in batches, which spares the runner per-element work). On the
    main output it emits a list of ``(rows, PubsubRecord)`` pairs, one per
    message that produced rows (a message's rows travel together, and a row the
    warehouse refuses can still be dead-lettered with its original message); on
    ``dead_letters``, one :data:`~pipeline.deadletter.DeadLetterElement` per failure.
    """

    def __init__(self, default_contract: str = "") -> None:
        self.default_contract = default_contract
        self.lag = Metrics.distribution(NAMESPACE, "event_time_lag_ms")
        self.unknown_fields = Metrics.counter(NAMESPACE, "unknown_fields")
        self.counters: dict[tuple[str, str], Any] = {}

    @override
    def setup(self) -> None:
        prepare_worker_heap()

    def _count(self, counts: Counter[tuple[str, str]]) -> None:
        """Add an element's outcome counts to their counters (one update per outcome)."""
        for (contract, outcome), count in counts.items():
            counter = self.counters.get((contract, outcome))
            if counter is None:
                counter = self.counters[contract, outcome] = outcome_counter(contract, outcome)
            counter.inc(count)

    @override
    def process(self, element: PubsubRecord | list[PubsubRecord]) -> list[Any]:
        # Returns a list rather than yielding: every counter update then happens while
        # the runner's metrics scope for this element is active (the DirectRunner drops
        # updates made while it drains a generator).
        records = element if isinstance(element, list) else [element]
        now = time.time()
        outputs: list[Any] = []
        produced: list[MessageRows] = []
        counts: Counter[tuple[str, str]] = Counter()
        modeled: Counter[tuple[str, str, str]] = Counter()  # (contract, revision, published as)
        unknown_fields = 0
        for record in records:
            outcome = process(record, self.default_contract)
            if outcome.revision_lookup_failed:
                counts[outcome.contract, "revision_lookup_failed"] += 1
            letter = outcome.dead_letter
            if letter is not None:
                counts[outcome.contract, REASON_NAMES[letter.reason]] += 1
                outputs.append(beam.pvalue.TaggedOutput(DEAD_LETTERS, keyed_line(record, letter)))
                continue
            modeled[outcome.contract, outcome.revision, outcome.published_as] += 1
            unknown_fields += outcome.unknown_fields
            if outcome.event_seconds is not None:
                self.lag.update(int((now - outcome.event_seconds) * 1000))
            produced.append((outcome.rows, record))
        for (contract, revision, published_as), count in modeled.items():
            counts[contract, "ok"] += count
            counts[contract, f"decoded_as.{revision.split(' ', 1)[0] or 'unknown'}"] += count
            if published_as:
                counts[contract, f"published_as.{published_as}"] += count
        self._count(counts)
        if unknown_fields:
            self.unknown_fields.inc(unknown_fields)
        if produced:
            outputs.append(produced)
        return outputs


class ProcessMessages(beam.PTransform[PCollection[Any], Any]):
    """Stages 2 to 5. Returns a tagged result with ``rows`` and ``dead_letters``."""

    def __init__(self, default_contract: str = "") -> None:
        super().__init__()
        self.default_contract = default_contract

    @override
    def expand(self, records: PCollection[Any]) -> Any:
        return records | "RouteDecodeValidateModel" >> beam.ParDo(
            ProcessFn(self.default_contract)
        ).with_output_types(list[MessageRows]).with_outputs(DEAD_LETTERS, main=ROWS)
