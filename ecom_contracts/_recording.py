"""A publisher for producers' unit tests: everything :class:`Publisher` does, but kept, not sent.

:class:`RecordingPublisher` is a :class:`Publisher` whose Pub/Sub client is a
recorder: the same checks (topic bound to its contract, ordering keys), the
same refusals (the contract's rules, held keys), the same results and
futures; what Pub/Sub would have received is in :attr:`RecordingPublisher.sent`,
decoded back into events. :meth:`RecordingPublisher.fail_next` makes Pub/Sub
refuse (or time out) the next messages, so a service's handling of refusals
can be tested too. No network, no credentials, no emulator.
"""

from __future__ import annotations

import itertools
from concurrent import futures
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf.message import Message

from ecom_contracts._catalog import BY_NAME
from ecom_contracts._encoding import CONTRACT_ATTRIBUTE, ENCODING_ATTRIBUTE, decode
from ecom_contracts._publisher import Publisher
from ecom_contracts._topics import DEFAULT_TIMEOUT

_NOTHING_RETRIED: Final = object()
"""The recorder's retry: nothing is sent, so nothing is retried (and google-api-core, which
the publisher's default retry needs, comes with the publish extra only)."""


@dataclass(frozen=True)
class RecordedMessage:
    """One message as Pub/Sub would have received it."""

    data: bytes
    attributes: dict[str, str]
    ordering_key: str
    message_id: str

    @property
    def event(self) -> Message:
        """The event, decoded from ``data`` as its attributes say (contract and encoding)."""
        contract = BY_NAME[self.attributes[CONTRACT_ATTRIBUTE]]
        return decode(self.data, contract, self.attributes[ENCODING_ATTRIBUTE])


class _RecordingClient:
    """Answers the calls :class:`Publisher` makes of a ``PublisherClient``, keeping messages."""

    def __init__(self) -> None:
        self.sent: list[RecordedMessage] = []
        self.failures: list[Exception] = []
        self.resumed: list[str] = []
        self._ids = itertools.count(1)

    def get_topic(self, request: dict[str, str], **options: Any) -> Any:
        from google.pubsub_v1 import types as pubsub

        return pubsub.Topic(name=request["topic"])

    def publish(
        self, topic: str, data: bytes, ordering_key: str = "", **options: Any
    ) -> futures.Future[str]:
        answered: futures.Future[str] = futures.Future()
        if self.failures:
            answered.set_exception(self.failures.pop(0))
            return answered
        attributes = {k: v for k, v in options.items() if k not in ("retry", "timeout")}
        message_id = str(next(self._ids))
        self.sent.append(RecordedMessage(data, attributes, ordering_key, message_id))
        answered.set_result(message_id)
        return answered

    def resume_publish(self, topic: str, ordering_key: str) -> None:
        self.resumed.append(ordering_key)


class RecordingPublisher(Publisher):
    """A :class:`Publisher` that records instead of sending, for producers' unit tests.

    Takes the same arguments but ``client`` and ``retry`` (the topic needs no
    schema: ``encoding`` defaults to BINARY, as an explicit encoding reads
    nothing). Needs no Pub/Sub client: the ``publish`` extra is not required.
    """

    def __init__(
        self,
        topic: str,
        *,
        ordering: bool = False,
        encoding: str = "BINARY",
        contract: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._recorder = _RecordingClient()
        super().__init__(
            topic,
            ordering=ordering,
            client=self._recorder,
            encoding=encoding,
            contract=contract,
            timeout=timeout,
            retry=_NOTHING_RETRIED,
        )

    @property
    def sent(self) -> list[RecordedMessage]:
        """Every message Pub/Sub would have taken, in the order they were sent."""
        return list(self._recorder.sent)

    @property
    def events(self) -> list[Message]:
        """The events of :attr:`sent`, decoded."""
        return [message.event for message in self._recorder.sent]

    def fail_next(self, error: Exception, count: int = 1) -> None:
        """Have Pub/Sub answer the next ``count`` messages with ``error``.

        The publisher reports it as it would a real answer: for example
        ``google.api_core.exceptions.InvalidArgument`` (a schema refusal) as
        a PublishRefusedError, ``DeadlineExceeded`` as a PublishTimeoutError.
        """
        self._recorder.failures.extend([error] * count)
