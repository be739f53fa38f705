"""Each event family's topic, and a subscription of it per reader, on the Pub/Sub emulator.

``make run`` (:mod:`ops.local_run`) and ``make bench`` (:mod:`ops.bench`) set
the emulator up alike, here: one topic per event family, and for each reader
(the pipeline; the benchmark's pass-through besides) a subscription of every
topic, named as the infrastructure names the pipeline's. ``make run
WAREHOUSE=bigquery`` applies the infrastructure with ``ops.infra apply``
instead, as a deployment does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ops.infra.settings import pipeline_subscription_id
from ops.traffic import TrafficMessage
from pipeline.catalog import BY_NAME, CONTRACTS
from pipeline.route import CONTRACT

UNKNOWN_CONTRACT_TOPIC = BY_NAME["ecom.events.v1.OrderEvent"].topic_id
"""Where generated traffic of contracts nobody knows is published."""


def topic_of(message: TrafficMessage) -> str:
    """Return the id of the topic ``message`` is published to: its family's, else the orders'."""
    known = BY_NAME.get(message.attributes.get(CONTRACT, ""))
    return known.topic_id if known is not None else UNKNOWN_CONTRACT_TOPIC


@dataclass(frozen=True)
class EmulatorTopics:
    """The topics and subscriptions made on the emulator, and the client that publishes to them."""

    project: str
    publisher: Any
    """A ``pubsub_v1.PublisherClient``."""
    subscriptions: dict[str, list[str]]
    """Per reader, ``CONTRACT=projects/P/subscriptions/S`` for each family (``--subscription``)."""

    def topic(self, topic_id: str) -> str:
        """Return the full path of the topic ``topic_id``."""
        return f"projects/{self.project}/topics/{topic_id}"

    def subscription_arguments(self, reader: str = "") -> list[str]:
        """Return the pipeline's ``--subscription`` arguments for ``reader``'s subscriptions."""
        return [arg for spec in self.subscriptions[reader] for arg in ("--subscription", spec)]


def create_topics(
    project: str,
    readers: Sequence[str] = ("",),
    ack_deadline_seconds: int = 60,
    publish_batch: tuple[int, float] = (500, 0.01),
) -> EmulatorTopics:
    """Create each family's topic and, per reader, a subscription of it, on the emulator.

    A reader is the suffix of its subscriptions' names (``""``: the
    pipeline's own, ``<topic>-pipeline``). ``publish_batch`` is the publisher
    client's batching: messages per request, and seconds a batch may wait.
    The emulator is the one ``PUBSUB_EMULATOR_HOST`` names.
    """
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    max_messages, max_latency = publish_batch
    publisher = pubsub_v1.PublisherClient(
        batch_settings=pubsub_v1.types.BatchSettings(
            max_messages=max_messages, max_latency=max_latency
        )
    )
    subscriptions: dict[str, list[str]] = {reader: [] for reader in readers}
    with pubsub_v1.SubscriberClient() as subscriber:
        for contract in CONTRACTS:
            topic = f"projects/{project}/topics/{contract.topic_id}"
            publisher.create_topic(name=topic)
            for reader in readers:
                subscription = pipeline_subscription_id(contract) + reader
                name = f"projects/{project}/subscriptions/{subscription}"
                subscriber.create_subscription(
                    name=name, topic=topic, ack_deadline_seconds=ack_deadline_seconds
                )
                subscriptions[reader].append(f"{contract.name}={name}")
    return EmulatorTopics(project, publisher, subscriptions)
