"""Stage 7, write dead letters: NDJSON files per processing-time window, then acknowledge."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.pvalue import PCollection
from apache_beam.transforms.window import FixedWindows, TimestampedValue
from typing_extensions import override

from pipeline import acks


def one_per_delivery(key: str, entries: Iterable[tuple[str, str]]) -> tuple[str, list[str]]:
    """Keep one record of a delivery (the same whatever the order) and every ack token."""
    collected = list(entries)
    return min(line for line, _ in collected), [token for _, token in collected if token]


class WriteWindowFileFn(beam.DoFn):
    """Write one window's dead letters to one file, atomically, then acknowledge them.

    The file is written under a temporary name and renamed when complete, so a
    reader never sees half a file. Acknowledging only after the rename means a
    crash in between leads to a redelivery and a second record of the same
    message (dead letters are at least once across runs), never to a loss.
    """

    def __init__(self, prefix: str, run_id: str) -> None:
        self.prefix = prefix.rstrip("/")
        self.run_id = run_id

    @override
    def process(
        self,
        element: tuple[None, Iterable[tuple[str, list[str]]]],
        window: Any = beam.DoFn.WindowParam,
    ) -> Iterator[str]:
        _, entries = element
        records = sorted(entries)
        start = window.start.to_utc_datetime().strftime("%Y%m%dT%H%M%S")
        end = window.end.to_utc_datetime().strftime("%Y%m%dT%H%M%S")
        name = f"{self.prefix}/dead-letters-{start}-{end}-{self.run_id}-{uuid.uuid4().hex[:8]}"
        with FileSystems.create(f"{name}.ndjson.tmp") as handle:
            for line, _ in records:
                handle.write(line.encode() + b"\n")
        FileSystems.rename([f"{name}.ndjson.tmp"], [f"{name}.ndjson"])
        acks.acknowledge(token for _, tokens in records for token in tokens)
        yield f"{name}.ndjson"


class WriteDeadLetters(beam.PTransform[PCollection[Any], Any]):
    """Stage 7: dead-letter elements to NDJSON files under ``prefix`` (folder or ``gs://``).

    Files are windowed by processing time (the time of failure): a dead letter's
    event time may be missing or garbage, and operators look for failures by
    when they happened. Within a window a message delivered several times
    yields one record. File names carry a per-launch id, so a restarted or
    updated job adds files and never overwrites an earlier run's.
    """

    def __init__(self, prefix: str, window_seconds: int = 60) -> None:
        super().__init__()
        self.prefix = prefix
        self.window_seconds = window_seconds
        self.run_id = uuid.uuid4().hex[:12]

    @override
    def expand(self, letters: PCollection[Any]) -> Any:
        return (
            letters
            | "StampFailureTime" >> beam.Map(lambda letter: TimestampedValue(letter, time.time()))
            | "WindowByFailureTime" >> beam.WindowInto(FixedWindows(self.window_seconds))
            | "GroupByDelivery" >> beam.GroupByKey()
            | "OnePerDelivery" >> beam.MapTuple(one_per_delivery)
            | "OneGroupPerWindow" >> beam.Map(lambda record: (None, record))
            | "GatherWindow" >> beam.GroupByKey()
            | "WriteWindowFile" >> beam.ParDo(WriteWindowFileFn(self.prefix, self.run_id))
        )
