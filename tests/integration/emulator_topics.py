"""Scratch topics on the Pub/Sub emulator for the producers' tests: create one, pull from it."""

from __future__ import annotations

import uuid
from typing import Any

from google.cloud import pubsub_v1  # type: ignore[attr-defined]


def new_topic(project: str, *, ordering: bool = False, topic_id: str = "") -> tuple[str, str]:
    """Create a topic (``topic_id``, else a random one) with one subscription; return both names.

    A named topic gets a project of its own, so tests may reuse a contract's topic id.
    """
    name = uuid.uuid4().hex[:10]
    project = f"{project}-{name}" if topic_id else project
    topic = f"projects/{project}/topics/{topic_id or f't-{name}'}"
    subscription = f"projects/{project}/subscriptions/s-{name}"
    pubsub_v1.PublisherClient().create_topic(name=topic)
    pubsub_v1.SubscriberClient().create_subscription(
        request={"name": subscription, "topic": topic, "enable_message_ordering": ordering}
    )
    return topic, subscription


def pull(subscription: str, expected: int, attempts: int = 20) -> list[Any]:
    """Pull and acknowledge until ``expected`` messages came or ``attempts`` pulls; return them."""
    client = pubsub_v1.SubscriberClient()
    received: list[Any] = []
    for _ in range(attempts):
        response = client.pull(subscription=subscription, max_messages=100, timeout=10)
        received += response.received_messages
        if response.received_messages:
            client.acknowledge(
                subscription=subscription, ack_ids=[m.ack_id for m in response.received_messages]
            )
        if len(received) >= expected:
            break
    return [m.message for m in received]
