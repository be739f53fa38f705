"""The messages a local run has pulled and not yet acknowledged: a side table of ack ids.

The local Pub/Sub reads (:mod:`ops.local_pipeline.pulls`) add each message's
ack id under its delivery key (the message id, as
:func:`pipeline.deadletter.delivery_key` names a pulled message); the steps
that make outcomes durable (:mod:`ops.local_pipeline.acknowledge`) take the
ack ids of the messages they finished and acknowledge them. The records
themselves carry nothing of it: what Dataflow runs is the same with or
without this table.

Every step of a DirectRunner run is in one process, but each bundle gets a
fresh copy of its DoFn, so the steps find their run's table by its id
(:meth:`Deliveries.of`). A message pulled again before it was acknowledged
(its ack deadline passed) has two ack ids; once either delivery's outcome is
durable, both are acknowledged: the message is accounted for. Keys are message
ids across every subscription a run reads, as the dead-letter writer's are:
Pub/Sub makes them unique within a topic, and the emulator numbers them across
topics.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from typing import ClassVar, NamedTuple


class AckId(NamedTuple):
    """One delivery of a message: the subscription it came from and its ack id there."""

    subscription: str
    ack_id: str


class Deliveries:
    """Ack ids of a run's pulled messages, by delivery key, until their outcome is durable."""

    _runs: ClassVar[dict[str, Deliveries]] = {}
    _runs_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self.run_id = uuid.uuid4().hex[:12]
        self._pending: dict[str, list[AckId]] = {}
        self._lock = threading.Lock()
        with self._runs_lock:
            self._runs[self.run_id] = self

    @classmethod
    def of(cls, run_id: str) -> Deliveries:
        """Return the table of the run ``run_id``.

        Raises KeyError when no run of this process has that id (a DoFn copied
        into another process: the local layer runs on the DirectRunner only).
        """
        with cls._runs_lock:
            return cls._runs[run_id]

    def pulled(self, key: str, delivery: AckId) -> None:
        """Record that the message ``key`` was delivered (again) as ``delivery``."""
        with self._lock:
            self._pending.setdefault(key, []).append(delivery)

    def take(self, keys: Iterable[str]) -> dict[str, list[str]]:
        """Remove the messages ``keys``; return their ack ids by subscription.

        A key without pending deliveries (taken already, or never pulled here,
        as in a replay) is skipped.
        """
        by_subscription: dict[str, list[str]] = {}
        with self._lock:
            for key in keys:
                for delivery in self._pending.pop(key, ()):
                    by_subscription.setdefault(delivery.subscription, []).append(delivery.ack_id)
        return by_subscription

    def __len__(self) -> int:
        """Return how many messages are pulled and not yet acknowledged."""
        with self._lock:
            return len(self._pending)
