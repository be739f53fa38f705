"""Stage 1, read: Pub/Sub messages or replay files, as PubsubRecord elements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, cast

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.gcp.pubsub import PubsubMessage, ReadFromPubSub
from apache_beam.pvalue import PBegin, PCollection
from apache_beam.transforms.window import GlobalWindows
from typing_extensions import override

from pipeline import coders  # noqa: F401  (registers the coders of records and rows)
from pipeline.record import PubsubRecord


def to_record(message: PubsubMessage, default_contract: str = "") -> PubsubRecord:
    """Return ``message`` as a PubsubRecord carrying its subscription's default contract.

    The attributes stay as Pub/Sub delivered them; the default contract travels beside them.
    """
    publish_time = message.publish_time
    published = ""
    if isinstance(publish_time, dt.datetime):
        published = publish_time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return PubsubRecord(
        data=message.data or b"",
        attributes=dict(message.attributes or {}),
        message_id=message.message_id or "",
        publish_time=published,
        default_contract=default_contract,
    )


REPLAY_BATCH = 1000
REPLAY_BATCH_BYTES = 16 * 1024 * 1024
"""A batch also ends at this many payload bytes: a file of 10 MB messages stays in memory bounds."""


def read_replay_batches(
    file: fileio.ReadableFile, batch: int = REPLAY_BATCH, max_bytes: int = REPLAY_BATCH_BYTES
) -> Iterator[list[PubsubRecord]]:
    """Yield the records of one replay file in lists of ``batch`` (or ``max_bytes`` of payload).

    Raises ValueError naming the file and line when a line is not a message
    record: a corrupt replay file is an operator's error and stops the run.
    """
    records: list[PubsubRecord] = []
    size = 0
    with file.open() as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                records.append(PubsubRecord.from_json(line))
            except ValueError as error:
                raise ValueError(f"{file.metadata.path}:{number}: {error}") from None
            size += len(records[-1].data)
            if len(records) == batch or size >= max_bytes:
                yield records
                records, size = [], 0
    if records:
        yield records


class BatchPerBundleFn(beam.DoFn):
    """Gather a bundle's records into lists (of ``size`` at most), as replay files are read.

    The later steps then handle one element per list instead of one per
    message: on the DirectRunner every element of every step costs more than
    routing, decoding, validating and modelling a message does. A list never
    spans bundles, so nothing waits longer than its bundle.
    """

    def __init__(self, size: int = REPLAY_BATCH) -> None:
        self.size = size
        self._batch: list[PubsubRecord] = []

    @override
    def start_bundle(self) -> None:
        self._batch = []

    @override
    def process(self, record: PubsubRecord) -> Iterator[list[PubsubRecord]]:
        self._batch.append(record)
        if len(self._batch) >= self.size:
            yield self._batch
            self._batch = []

    @override
    def finish_bundle(self) -> Iterator[Any]:
        if self._batch:
            yield GlobalWindows.windowed_value_at_end_of_window(self._batch)
            self._batch = []


class ReadMessages(beam.PTransform[PBegin, PCollection[Any]]):
    """Read every configured subscription (or replay glob) into one PCollection of records."""

    def __init__(self, subscriptions: list[str], replay: list[str]) -> None:
        super().__init__()
        if bool(subscriptions) == bool(replay):
            raise ValueError("give --subscription or --replay (not both, not neither)")
        self.subscriptions = subscriptions
        self.replay = replay

    @override
    def expand(self, pipeline: PBegin) -> PCollection[Any]:
        branches = []
        for index, spec in enumerate(self.subscriptions):
            contract, _, subscription = spec.rpartition("=")
            branches.append(
                pipeline
                | f"ReadSubscription{index}"
                >> ReadFromPubSub(subscription=subscription, with_attributes=True)
                | f"ToRecord{index}"
                >> beam.Map(to_record, contract).with_output_types(PubsubRecord)
                | f"BatchPerBundle{index}"
                >> beam.ParDo(BatchPerBundleFn()).with_output_types(list[PubsubRecord])
            )
        for index, pattern in enumerate(self.replay):
            branches.append(
                pipeline
                | f"MatchReplay{index}" >> fileio.MatchFiles(pattern)
                | f"OpenReplay{index}" >> fileio.ReadMatches()
                | f"ReadReplay{index}"
                >> beam.FlatMap(read_replay_batches).with_output_types(list[PubsubRecord])
            )
        if len(branches) == 1:
            return cast(PCollection[Any], branches[0])
        return cast(PCollection[Any], tuple(branches) | "MergeSources" >> beam.Flatten())
