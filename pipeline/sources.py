"""Stage 1, read: Pub/Sub messages or replay files, as PubsubRecord elements."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import apache_beam as beam
from apache_beam.io.gcp.pubsub import PubsubMessage, ReadFromPubSub
from apache_beam.io.textio import ReadFromText
from apache_beam.pvalue import PBegin, PCollection
from typing_extensions import override

from pipeline.record import PubsubRecord
from pipeline.route import CONTRACT


def to_record(message: PubsubMessage, default_contract: str = "") -> PubsubRecord:
    """Return ``message`` as a PubsubRecord; tag it with the subscription's default contract."""
    attributes = dict(message.attributes or {})
    if default_contract and "googclient_schemaname" not in attributes:
        attributes.setdefault(CONTRACT, default_contract)
    publish_time = message.publish_time
    published = ""
    if isinstance(publish_time, dt.datetime):
        published = publish_time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return PubsubRecord(
        data=message.data or b"",
        attributes=attributes,
        message_id=message.message_id or "",
        publish_time=published,
    )


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
                | f"ToRecord{index}" >> beam.Map(to_record, contract)
            )
        for index, pattern in enumerate(self.replay):
            branches.append(
                pipeline
                | f"ReadReplay{index}" >> ReadFromText(pattern)
                | f"ParseReplay{index}" >> beam.Map(PubsubRecord.from_json)
            )
        if len(branches) == 1:
            return cast(PCollection[Any], branches[0])
        return cast(PCollection[Any], tuple(branches) | "MergeSources" >> beam.Flatten())
