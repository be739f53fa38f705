"""Schema-checked publishing: validate against the contract, encode as the topic needs, publish.

The same code publishes to real Pub/Sub and to the emulator (which sets
``PUBSUB_EMULATOR_HOST``).

Least privilege. With an explicit encoding the publisher only publishes
(``roles/pubsub.publisher``). Without one it reads the topic's schema
settings once (``pubsub.topics.get``) and encodes as they require (BINARY or
JSON); where that read is denied it warns once and sends BINARY, the
project's default.

Bounded waits. Every message has ``timeout`` seconds from its hand-over to be
confirmed; the client's retries stop there too (``retry``), and a message
still unconfirmed is reported as timed out (:class:`PublishTimeoutError`).
:meth:`Publisher.send` does not wait: it returns a future of the message's
result; :meth:`Publisher.flush` waits for what was sent, :meth:`Publisher.publish`
sends a batch and waits for it.

Refusals are results. Every message gets one :class:`PublishResult`, which
carries its message id or its refusal: the contract's rules
(``InvalidEventError``), Pub/Sub's answer (:class:`PublishRefusedError`:
against a topic with a schema, a refused message fails its whole publish
request, so the messages batched with it are refused too), or a timeout.

Ordering holds. With ordering keys, a refusal of any kind holds its key: the
later messages of that key are not sent (:class:`KeyHeldError`) until the
caller calls :meth:`Publisher.resume`; the client library's own pause of the
key is lifted then too.

The topic is bound to its contract. The contract a topic carries is read from
its schema when the settings were read, else from its id (each contract's
``topic_id``; the deployment names its topics so); ``contract=`` binds a topic
named otherwise. An event of another contract is refused before anything is
sent (:class:`TopicMismatchError`).
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from dataclasses import dataclass, replace
from typing import Any, Final

from google.protobuf.message import Message

from ecom_contracts._catalog import Contract, contract_of
from ecom_contracts._catalog import contract as find_contract
from ecom_contracts._encoding import encode, encoding_name
from ecom_contracts._errors import (
    ContractError,
    EncodingError,
    InvalidEventError,
    KeyHeldError,
    PublishError,
    PublishRefusedError,
    PublishTimeoutError,
    SchemaLookupError,
    TopicMismatchError,
)
from ecom_contracts._topics import (
    DEFAULT_TIMEOUT,
    TopicSettings,
    check_ordering_key,
    default_retry,
    read_topic_settings,
    topic_contract,
)

LOG: Final = logging.getLogger("ecom_contracts.publisher")


@dataclass(frozen=True)
class PublishResult:
    """What happened to one message: its Pub/Sub message id, or why it was not sent."""

    index: int
    """Position of the message in what was published (for :meth:`Publisher.send`: in the
    publisher's sends, from 0)."""
    message_id: str | None
    error: str | None = None
    """The refusal as one line; None when Pub/Sub took the message."""
    refusal: Exception | None = None
    """The typed refusal: ``InvalidEventError``, :class:`PublishRefusedError`,
    :class:`PublishTimeoutError` or :class:`KeyHeldError`; None when taken."""
    ordering_key: str = ""

    @property
    def ok(self) -> bool:
        """Whether Pub/Sub took the message."""
        return self.error is None


class _Sending:
    """One message handed over: its result's future, its key and its deadline."""

    __slots__ = ("deadline", "future", "index", "key", "settled")

    def __init__(self, index: int, key: str, deadline: float) -> None:
        self.index = index
        self.key = key
        self.deadline = deadline
        self.future: futures.Future[PublishResult] = futures.Future()
        self.settled = False


class Publisher:
    """Publish events or prepared payloads to one topic, with batching and ordering keys.

    ``encoding`` None reads it from the topic's schema settings (the first
    time it is needed; needs ``pubsub.topics.get``, degrades to BINARY with one
    warning where denied); an explicit encoding reads nothing. ``timeout``
    bounds each message's wait for Pub/Sub, retries included; ``retry`` is the
    client library's retry (default: :func:`default_retry` of ``timeout``).
    ``contract`` names the contract the topic carries, for a topic whose id
    is no contract's ``topic_id``; it cannot contradict the topic's schema or
    id. ``client`` is a ``google.cloud.pubsub_v1.PublisherClient`` (or one
    answering the same calls); by default one is made with the batching and
    ordering given.
    """

    def __init__(
        self,
        topic: str,
        *,
        ordering: bool = False,
        max_messages: int = 500,
        max_latency: float = 0.05,
        client: Any = None,
        encoding: str | None = None,
        contract: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: Any = None,
    ) -> None:
        self.topic = topic
        self.ordering = ordering
        self.timeout = timeout
        self._retry = retry
        self._encoding = encoding_name(encoding) if encoding is not None else None
        self._declared = find_contract(contract) if contract is not None else None
        self._settings: TopicSettings | None = None
        self._settings_read = False
        self._reading = threading.Lock()
        self._carries: Contract | None = None
        self._bound = False
        self._lock = threading.Lock()
        self._held: dict[str, str] = {}
        self._paused_by_client: set[str] = set()
        self._outstanding: collections.deque[_Sending] = collections.deque()
        self._count = itertools.count()
        self._watch: threading.Thread | None = None
        self._wake = threading.Condition(self._lock)
        self._owns_client = client is None
        self._closed = False
        if client is None:
            from google.cloud import pubsub_v1  # type: ignore[attr-defined]

            client = pubsub_v1.PublisherClient(
                batch_settings=pubsub_v1.types.BatchSettings(
                    max_messages=max_messages, max_latency=max_latency
                ),
                publisher_options=pubsub_v1.types.PublisherOptions(
                    enable_message_ordering=ordering
                ),
            )
        self.client = client

    @property
    def retry(self) -> Any:
        """The client library's retry for publishing: the one given, else ``default_retry``."""
        if self._retry is None:
            self._retry = default_retry(self.timeout)  # google-api-core: the publish extra
        return self._retry

    # -- what the topic takes -------------------------------------------------------------

    @property
    def settings(self) -> TopicSettings | None:
        """The topic's schema settings, read once; None when not read.

        Not read with an explicit encoding (publish rights suffice); None too
        where the read is denied (``PermissionDenied``), said in one warning.
        Raises SchemaLookupError when the read fails otherwise (not found,
        unreachable within ``timeout``).
        """
        if not self._settings_read and self._encoding is None:
            with self._reading:  # once, whichever thread sends first
                if not self._settings_read:
                    self._settings = self._read_settings()  # when it raises: read again
                    self._settings_read = True
        return self._settings

    def _read_settings(self) -> TopicSettings | None:
        """Read the settings; None where denied (one warning); SchemaLookupError otherwise."""
        from google.api_core import exceptions

        try:
            return read_topic_settings(self.client, self.topic, self.timeout)
        except exceptions.PermissionDenied as denied:
            LOG.warning(
                "%s: the topic's schema settings cannot be read (%s; reading them needs "
                "pubsub.topics.get, e.g. roles/pubsub.viewer): sending BINARY messages; pass "
                "the encoding explicitly to publish with roles/pubsub.publisher alone",
                self.topic,
                type(denied).__name__,
            )
            return None
        except exceptions.GoogleAPIError as failed:  # RetryError included: unreachable
            raise SchemaLookupError(
                f"{self.topic}: the topic's schema settings could not be read ({_line(failed)}); "
                "pass the encoding explicitly to publish without reading them"
            ) from failed

    @property
    def encoding(self) -> str:
        """The encoding messages are sent in: the explicit one, else the topic's (BINARY)."""
        return self._resolve(self._encoding)

    def _resolve(self, explicit: str | None) -> str:
        if explicit is None:
            settings = self.settings
            return settings.encoding if settings is not None else "BINARY"
        explicit = encoding_name(explicit)
        settings = self._settings  # only when read already: an explicit encoding reads nothing
        if settings is not None and settings.schema and explicit != settings.encoding:
            raise EncodingError(
                f"{self.topic} takes {settings.encoding} messages (its schema settings); "
                f"{explicit} would be refused wholesale"
            )
        return explicit

    @property
    def carries(self) -> Contract | None:
        """The contract the topic carries (see :func:`topic_contract`), or ``contract=``'s.

        None when neither the topic's schema nor its id names a contract and
        none was given: then events of any contract are sent. Raises
        TopicMismatchError when ``contract=`` contradicts the topic.
        """
        if not self._bound:
            settings = self.settings if self._encoding is None else self._settings
            known = topic_contract(self.topic, settings)
            if self._declared is not None and known is not None and known is not self._declared:
                raise TopicMismatchError(self._mismatch(known, self._declared))
            self._carries = known or self._declared
            self._bound = True
        return self._carries

    def _mismatch(self, carried: Contract, sent: Contract) -> str:
        settings = self._settings
        by = (
            f"its schema {settings.schema}"
            if settings is not None and topic_contract("", settings) is carried
            else f"its id, the topic id of {carried.schema_id}"
        )
        return (
            f"{self.topic} carries {carried.name} (by {by}), not {sent.name}: "
            f"publish {sent.schema_id} events to projects/PROJECT/topics/{sent.topic_id}"
        )

    def check(self, event: Message, ordering_key_field: str = "") -> Contract:
        """Return ``event``'s contract; raise unless it may be sent to this topic as asked.

        Raises TopicMismatchError for an event of another contract than the
        topic's, OrderingKeyError for a field that cannot order messages (see
        :func:`check_ordering_key`), UnknownContractError for a message that is
        no event contract; ValueError for a key field without ``ordering=True``.
        """
        own = contract_of(event)
        carried = self.carries
        if carried is not None and carried is not own:
            raise TopicMismatchError(self._mismatch(carried, own))
        if ordering_key_field:
            if not self.ordering:
                raise ValueError("ordering keys need a Publisher made with ordering=True")
            check_ordering_key(own, ordering_key_field)
        return own

    # -- ordering keys ----------------------------------------------------------------------

    @property
    def held_keys(self) -> dict[str, str]:
        """Ordering keys a refusal holds, each with that refusal; :meth:`resume` releases one."""
        with self._lock:
            return dict(self._held)

    def resume(self, key: str) -> None:
        """Send the messages of ``key`` again: release the hold (and the client library's pause).

        The messages refused while the key was held are not re-sent: send them
        again, in order, after this.
        """
        with self._lock:
            self._held.pop(key, None)
            paused = key in self._paused_by_client
            self._paused_by_client.discard(key)
        if paused:
            try:
                self.client.resume_publish(self.topic, key)
            except RuntimeError as error:  # the library's sequencer was not paused after all
                if "not paused" not in str(error):
                    raise

    # -- sending ----------------------------------------------------------------------------

    def send(
        self,
        event: Message,
        *,
        ordering_key_field: str = "",
        callback: Callable[[PublishResult], None] | None = None,
    ) -> futures.Future[PublishResult]:
        """Validate, encode and hand over one event; return the future of its result, not waiting.

        The future always completes with a :class:`PublishResult`, never an
        exception, at the latest ``timeout`` seconds from now; ``callback``, if
        given, is called with it (on a client library thread: keep it short; at
        once, on this thread, for an event refused before sending).
        Raises at once, sending nothing, what is a programming error rather
        than a refusal: TopicMismatchError, OrderingKeyError, EncodingError; and
        SchemaLookupError when the topic's settings, needed without an explicit
        encoding, cannot be read.
        """
        self.check(event, ordering_key_field)
        return self._send(event, ordering_key_field, callback, self.encoding)

    def _send(
        self,
        event: Message,
        ordering_key_field: str,
        callback: Callable[[PublishResult], None] | None,
        encoding: str,
    ) -> futures.Future[PublishResult]:
        key = str(getattr(event, ordering_key_field)) if ordering_key_field else ""
        try:
            data, attributes = encode(event, encoding)
        except InvalidEventError as refused:
            return self._hand_over(b"", {}, key, callback, refused)
        return self._hand_over(data, attributes, key, callback)

    def send_raw(
        self,
        data: bytes,
        attributes: dict[str, str],
        ordering_key: str = "",
        callback: Callable[[PublishResult], None] | None = None,
    ) -> futures.Future[PublishResult]:
        """Hand over one prepared payload as it is (no check); return the future of its result."""
        if ordering_key and not self.ordering:
            raise ValueError("ordering keys need a Publisher made with ordering=True")
        return self._hand_over(data, attributes, ordering_key, callback)

    def _hand_over(
        self,
        data: bytes | None,
        attributes: dict[str, str],
        key: str,
        callback: Callable[[PublishResult], None] | None,
        refused: ContractError | None = None,
    ) -> futures.Future[PublishResult]:
        """Send one message unless refused already or its key is held; settle it otherwise."""
        if self._closed:
            raise RuntimeError(f"the publisher of {self.topic} is closed")
        sending = _Sending(next(self._count), key, time.monotonic() + self.timeout)
        if callback is not None:
            sending.future.add_done_callback(lambda done: callback(done.result()))
        with self._lock:
            held = self._held.get(key) if key else None
        if held is not None:
            self._settle(sending, None, KeyHeldError(key, held))
        elif refused is not None:
            self._settle(sending, None, refused)
        else:
            with self._lock:
                self._outstanding.append(sending)
                self._watch_deadlines()
            try:
                handed = self.client.publish(
                    self.topic,
                    data,
                    ordering_key=key,
                    retry=self.retry,
                    timeout=self.timeout,
                    **attributes,
                )
            except Exception as error:  # noqa: BLE001 - e.g. too large: reported as its result
                self._settle(sending, None, PublishRefusedError(_line(error)))
            else:
                handed.add_done_callback(lambda done: self._answered(sending, done))
        return sending.future

    def _answered(self, sending: _Sending, done: Any) -> None:
        """Settle ``sending`` with the client library's answer."""
        try:
            message_id = done.result()
        except Exception as error:  # noqa: BLE001 - every failure is this message's result
            self._settle(sending, None, self._refusal(sending.key, error), from_client=True)
        else:
            self._settle(sending, str(message_id), None)

    def _refusal(self, key: str, error: Exception) -> PublishError:
        from google.api_core import exceptions

        # The client library's answers for a key it paused: later messages, and those it held.
        if type(error).__name__ == "PublishToPausedOrderingKeyException" or (
            isinstance(error, RuntimeError) and "prior ordered message" in str(error)
        ):
            with self._lock:
                cause = self._held.get(key, "refused by Pub/Sub")
            return KeyHeldError(key, cause)
        if isinstance(error, exceptions.RetryError | exceptions.DeadlineExceeded):
            return PublishTimeoutError(f"not confirmed within {self.timeout:g} s ({_line(error)})")
        return PublishRefusedError(_line(error))

    def _settle(
        self,
        sending: _Sending,
        message_id: str | None,
        refusal: Exception | None,
        from_client: bool = False,
    ) -> None:
        """Complete ``sending``'s future once; a refusal holds its key."""
        with self._lock:
            if sending.settled:
                return
            sending.settled = True
            if refusal is not None and sending.key:
                if not isinstance(refusal, KeyHeldError):
                    self._held.setdefault(sending.key, _describe(refusal))
                if from_client and self.ordering:
                    self._paused_by_client.add(sending.key)
        error = None if refusal is None else _describe(refusal)
        sending.future.set_result(
            PublishResult(sending.index, message_id, error, refusal, sending.key)
        )

    def _watch_deadlines(self) -> None:
        """Have the deadline thread watch the message just added (``_lock`` held)."""
        if len(self._outstanding) == 1:
            self._wake.notify()  # it may be idle, waiting for messages
        if self._watch is None:
            self._watch = threading.Thread(
                target=self._time_out, name="ecom-contracts-deadlines", daemon=True
            )
            self._watch.start()

    def _time_out(self) -> None:
        """Settle every message still unanswered at its deadline as timed out.

        Messages are watched in the order they were handed over, which is the
        order of their deadlines; the thread ends when none has been left for
        a few seconds.
        """
        while True:
            expired: list[_Sending] = []
            with self._lock:
                now = time.monotonic()
                while self._outstanding and (
                    self._outstanding[0].settled or self._outstanding[0].deadline <= now
                ):
                    head = self._outstanding.popleft()
                    if not head.settled:
                        expired.append(head)
                if not expired:
                    if not self._outstanding:
                        self._wake.wait(5.0)
                        if not self._outstanding:
                            self._watch = None
                            return
                    else:
                        self._wake.wait(min(self._outstanding[0].deadline - now, 1.0))
                    continue
            timed_out = PublishTimeoutError(
                f"not confirmed within {self.timeout:g} s; the client library may still deliver it"
            )
            for sending in expired:
                self._settle(sending, None, timed_out)

    def flush(self, timeout: float | None = None) -> int:
        """Wait for the results of every message sent; return how many are still unanswered.

        ``timeout`` None waits until each is answered or has timed out (at most
        the publisher's ``timeout`` from its sending); 0 means every result is in.
        """
        with self._lock:
            waiting = [s.future for s in self._outstanding if not s.settled]
        _, pending = futures.wait(waiting, timeout=timeout)
        return len(pending)

    def close(self, timeout: float | None = None) -> int:
        """Flush (see :meth:`flush`), then stop the client library if this publisher made it.

        Returns how many messages are still unanswered. Sending afterwards
        raises RuntimeError. ``with Publisher(...) as publisher:`` closes on leaving.
        """
        unanswered = self.flush(timeout)
        self._closed = True
        if self._owns_client:
            self.client.stop()
        return unanswered

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- waiting for batches ----------------------------------------------------------------

    def publish_raw(
        self,
        payloads: Iterable[tuple[bytes, dict[str, str]]],
        ordering_keys: Sequence[str] | None = None,
    ) -> list[PublishResult]:
        """Publish prepared ``(data, attributes)`` pairs; wait for and return every result.

        Each result's ``index`` is its position in ``payloads``.
        """
        sent = [
            self.send_raw(data, attributes, ordering_keys[index] if ordering_keys else "")
            for index, (data, attributes) in enumerate(payloads)
        ]
        return self._wait(sent)

    def publish(
        self,
        events: Iterable[Message],
        encoding: str | None = None,
        ordering_key_field: str = "",
    ) -> list[PublishResult]:
        """Validate, encode and publish ``events``; wait for and return one result each, in order.

        Events that break their contract's rules are refused, not sent; with
        ``ordering_key_field`` (``ordering=True``) a refusal holds its key.
        ``encoding`` None uses :attr:`encoding`. Before anything is sent,
        raises TopicMismatchError or OrderingKeyError if any event may not be
        sent as asked (see :meth:`check`).
        """
        events = list(events)
        chosen = self._resolve(encoding if encoding is not None else self._encoding)
        for event in events:
            self.check(event, ordering_key_field)
        return self._wait([self._send(e, ordering_key_field, None, chosen) for e in events])

    @staticmethod
    def _wait(sent: list[futures.Future[PublishResult]]) -> list[PublishResult]:
        return [replace(future.result(), index=index) for index, future in enumerate(sent)]


def _line(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _describe(refusal: Exception) -> str:
    """Return ``refusal`` as a result's one-line ``error``."""
    if isinstance(refusal, InvalidEventError):
        return f"invalid against its contract: {refusal}"
    if isinstance(refusal, PublishError):
        return str(refusal)
    return _line(refusal)
