"""Schema-checked publishing: validate against the contract, encode as the topic needs, publish.

The same code publishes to real Pub/Sub and to the local emulator (which sets
``PUBSUB_EMULATOR_HOST``). Against a topic with a schema, Pub/Sub itself also
checks every message and rejects what does not conform; the publisher reports
such rejections per message rather than failing the batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent import futures
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from pipeline.catalog import BY_NAME
from pipeline.errors import InvalidEventError
from pipeline.route import CONTRACT, ENCODING
from pipeline.validate import collect_violations


def encode(
    event: Message, encoding: str = "BINARY", *, validate: bool = True
) -> tuple[bytes, dict[str, str]]:
    """Return ``event``'s payload in ``encoding`` and the routing attributes the pipeline reads.

    JSON follows the topic's Pub/Sub schema (``pubsub_schemas/``), which is the
    shape Pub/Sub validates JSON-encoded messages against. Raises
    InvalidEventError when ``validate`` and the event breaks its contract.
    """
    name = event.DESCRIPTOR.full_name
    contract = BY_NAME[name]
    if validate:
        violations = collect_violations(event)
        if violations:
            raise InvalidEventError(violations)
    wire = event.SerializeToString()
    if encoding == "JSON":
        shaped = contract.pubsub_message.FromString(wire)
        data = json_format.MessageToJson(shaped, indent=None).encode()
    elif encoding == "BINARY":
        data = wire
    else:
        raise ValueError(f"encoding must be BINARY or JSON, not {encoding!r}")
    return data, {CONTRACT: name, ENCODING: encoding}


@dataclass(frozen=True)
class PublishResult:
    """What happened to one message: its Pub/Sub message id, or why it was refused."""

    index: int
    message_id: str | None
    error: str | None = None


class Publisher:
    """Publish events or prepared payloads to one topic, with batching and ordering keys."""

    def __init__(
        self,
        topic: str,
        *,
        ordering: bool = False,
        max_messages: int = 500,
        max_latency: float = 0.05,
        client: Any = None,
    ) -> None:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]

        self.topic = topic
        if client is None:
            client = pubsub_v1.PublisherClient(
                batch_settings=pubsub_v1.types.BatchSettings(
                    max_messages=max_messages, max_latency=max_latency
                ),
                publisher_options=pubsub_v1.types.PublisherOptions(
                    enable_message_ordering=ordering
                ),
            )
        self.client = client

    def publish_raw(
        self,
        payloads: Iterable[tuple[bytes, dict[str, str]]],
        ordering_keys: Sequence[str] | None = None,
    ) -> list[PublishResult]:
        """Publish prepared ``(data, attributes)`` pairs; wait for and return every result."""
        pending: list[futures.Future[str]] = []
        for index, (data, attributes) in enumerate(payloads):
            key = ordering_keys[index] if ordering_keys else ""
            pending.append(self.client.publish(self.topic, data, ordering_key=key, **attributes))
        results = []
        for index, future in enumerate(pending):
            try:
                results.append(PublishResult(index, future.result()))
            except Exception as error:  # noqa: BLE001 - reported per message, e.g. schema rejection
                results.append(PublishResult(index, None, f"{type(error).__name__}: {error}"))
        return results

    def publish(
        self, events: Iterable[Message], encoding: str = "BINARY", ordering_key_field: str = ""
    ) -> list[PublishResult]:
        """Validate, encode and publish ``events``; invalid ones are reported, not published."""
        prepared: list[tuple[bytes, dict[str, str]]] = []
        keys: list[str] = []
        refused: dict[int, str] = {}
        positions: list[int] = []
        for index, event in enumerate(events):
            try:
                prepared.append(encode(event, encoding))
            except InvalidEventError as error:
                refused[index] = f"invalid against its contract: {error}"
                continue
            positions.append(index)
            keys.append(str(getattr(event, ordering_key_field)) if ordering_key_field else "")
        published = self.publish_raw(prepared, keys if ordering_key_field else None)
        results = [PublishResult(positions[r.index], r.message_id, r.error) for r in published] + [
            PublishResult(index, None, error) for index, error in refused.items()
        ]
        return sorted(results, key=lambda r: r.index)
