"""Acknowledge a locally pulled message once its outcome is durable, around the pipeline's writers.

A message ends in its fact rows or in one dead letter. Two kinds of step make
that durable, and each is wrapped here without changing it:

- a warehouse sink (:class:`pipeline.sinks.warehouse_sink.WarehouseSinkFn`)
  writes every row of the messages it received by the end of the bundle,
  except those of a message it emits a dead letter for: wrapped in
  :class:`AcknowledgeWrittenRows`, each message it received is acknowledged
  after its ``finish_bundle``, unless it emitted the message's dead letter
  (the dead-letter writer acknowledges that one);
- a dead-letter writer (:class:`pipeline.deadletter_files.WriteDeadLetterFilesFn`)
  renames its files into place at the end of the bundle: wrapped in
  :class:`AcknowledgeWrittenDeadLetters`, each message it received is
  acknowledged after that.

A bundle that fails acknowledges nothing, so Pub/Sub delivers its messages
again after their ack deadline, and the idempotent sinks and the dead-letter
writer's per-window keys absorb what was written before the failure. Each
wrapper owns a subscriber client, created in ``setup`` and closed in
``teardown``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue
from typing_extensions import override

from ops.local_pipeline.deliveries import Deliveries
from pipeline.deadletter import DeadLetterElement, DeadLetterLine, delivery_key
from pipeline.record import MessageRows

ACK_IDS_PER_REQUEST: Final = 1000
"""Pub/Sub's limit of ack ids in one acknowledge request."""


def subscriber_client() -> Any:
    """Return a new Pub/Sub subscriber client (the emulator's, where one is named)."""
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    return pubsub_v1.SubscriberClient()


def acknowledge(client: Any, ack_ids: dict[str, list[str]]) -> int:
    """Acknowledge ``ack_ids`` (by subscription) with ``client``; return how many."""
    for subscription, ids in ack_ids.items():
        for start in range(0, len(ids), ACK_IDS_PER_REQUEST):
            batch = ids[start : start + ACK_IDS_PER_REQUEST]
            client.acknowledge(subscription=subscription, ack_ids=batch)
    return sum(len(ids) for ids in ack_ids.values())


class AcknowledgeAfterFn(beam.DoFn):
    """Run ``writer`` unchanged; after each of its bundles, acknowledge what it made durable.

    Subclasses say which messages an input element carries
    (:meth:`received`) and which of them an output hands on to another step
    (:meth:`handed_on`).
    """

    def __init__(
        self,
        writer: beam.DoFn,
        run_id: str,
        new_client: Callable[[], Any] = subscriber_client,
    ) -> None:
        self.writer = writer
        self.run_id = run_id
        self.new_client = new_client
        self._client: Any = None
        self._received: set[str] = set()
        self._handed_on: set[str] = set()

    def received(self, element: Any) -> Iterable[str]:
        """Return the delivery keys of the messages ``element`` carries."""
        raise NotImplementedError

    def handed_on(self, output: Any) -> Iterable[str]:
        """Return the delivery keys of messages whose outcome ``output`` leaves to another step."""
        return ()

    @override
    def setup(self) -> None:
        self.writer.setup()
        self._client = self.new_client()

    @override
    def start_bundle(self) -> None:
        self._received, self._handed_on = set(), set()
        self.writer.start_bundle()

    @override
    def process(self, element: Any) -> Iterator[Any]:
        self._received.update(self.received(element))
        for output in self.writer.process(element) or ():
            self._handed_on.update(self.handed_on(output))
            yield output

    @override
    def finish_bundle(self) -> Iterator[Any]:
        for output in self.writer.finish_bundle() or ():
            value = output.value if isinstance(output, WindowedValue) else output
            self._handed_on.update(self.handed_on(value))
            yield output
        durable = self._received - self._handed_on
        acknowledge(self._client, Deliveries.of(self.run_id).take(durable))

    @override
    def teardown(self) -> None:
        try:
            self.writer.teardown()
        finally:
            if self._client is not None:
                self._client.close()
                self._client = None


class AcknowledgeWrittenRows(AcknowledgeAfterFn):
    """A warehouse sink: its messages once their rows are written; not those it dead-letters."""

    @override
    def received(self, element: list[MessageRows]) -> Iterable[str]:
        return (delivery_key(record) for _, record in element)

    @override
    def handed_on(self, output: Any) -> Iterable[str]:
        key, letter = output
        if not isinstance(letter, DeadLetterLine):
            raise TypeError(f"a warehouse sink emits dead letters, not {type(output).__name__}")
        return (key,)


class AcknowledgeWrittenDeadLetters(AcknowledgeAfterFn):
    """A dead-letter writer: its messages once their records' files are renamed into place."""

    @override
    def received(self, element: DeadLetterElement) -> Iterable[str]:
        key, _ = element
        return (key,)
