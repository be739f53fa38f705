"""Acknowledging Pub/Sub messages after their effects are written (local runs).

On the DirectRunner the project's reader (``pipeline/direct_pubsub.py``) does
not acknowledge at pull time. Each record carries an *ack token* instead
(``subscription`` and ack id), and the step that makes a message's outcome
durable acknowledges it: the warehouse sink once all of the message's rows
are written, the dead-letter writer once its file is closed. A crash before
that leaves the message unacknowledged, so Pub/Sub delivers it again and the
idempotent sinks absorb the repeat. On Dataflow records carry no token:
Dataflow acknowledges after its own checkpoints.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, Final

ATTRIBUTE: Final = "ecom_local_ack"
"""Attribute the local reader uses to hand the token to ``to_record``; never kept."""
_SEPARATOR: Final = " "

_lock = threading.Lock()
_client: Any = None


def token(subscription: str, ack_id: str) -> str:
    """Return the ack token of one pulled message."""
    return f"{subscription}{_SEPARATOR}{ack_id}"


def acknowledge(tokens: Iterable[str]) -> int:
    """Acknowledge every non-empty token, grouped by subscription; return how many."""
    by_subscription: dict[str, list[str]] = {}
    for value in tokens:
        if value:
            subscription, _, ack_id = value.partition(_SEPARATOR)
            by_subscription.setdefault(subscription, []).append(ack_id)
    if not by_subscription:
        return 0
    client = _subscriber()
    for subscription, ack_ids in by_subscription.items():
        for start in range(0, len(ack_ids), 1000):
            client.acknowledge(subscription=subscription, ack_ids=ack_ids[start : start + 1000])
    return sum(len(ids) for ids in by_subscription.values())


def _subscriber() -> Any:
    global _client
    with _lock:
        if _client is None:
            from google.cloud import pubsub_v1  # type: ignore[attr-defined]

            _client = pubsub_v1.SubscriberClient()
        return _client


class PendingAcks:
    """The ack tokens of a bundle's messages: acknowledged at its end, unless dead-lettered.

    A message whose rows were all written is acknowledged by the sink; one
    that became a dead letter is acknowledged by the dead-letter writer once
    its record is durable, so the sink must not acknowledge it first.
    """

    def __init__(self) -> None:
        self._tokens: set[str] = set()
        self._handed_over: set[str] = set()

    def note(self, token: str) -> None:
        """Remember the token of a message whose rows the bundle holds."""
        if token:
            self._tokens.add(token)

    def hand_over(self, tokens: Iterable[str]) -> None:
        """Leave these messages to the dead-letter writer."""
        self._handed_over.update(token for token in tokens if token)

    def acknowledge(self) -> int:
        """Acknowledge every message not handed over; return how many."""
        return acknowledge(self._tokens - self._handed_over)
