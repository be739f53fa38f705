"""Schema-checked publishing: validate against the contract, encode as the topic needs, publish.

The same code publishes to real Pub/Sub and to the emulator (which sets
``PUBSUB_EMULATOR_HOST``). The publisher reads the topic's schema settings
once and encodes as they require (BINARY or JSON), so a topic bound to a
JSON schema is never sent binary payloads it would refuse wholesale. Against
a topic with a schema, Pub/Sub itself also checks every message; a message it
refuses fails its whole publish request, so the messages batched with it are
refused too (the contract check before publishing makes that rare). Every
result is reported per message, never as one failure of the run. With
ordering keys, a refused message pauses its key (later messages of that key
are not sent): the publisher resumes the key and reports each message that
was not sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent import futures
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from ecom_contracts._encoding import encode, encoding_name
from ecom_contracts._errors import EncodingError, InvalidEventError, SchemaLookupError
from ecom_contracts._schema_revisions import (
    PubsubSchemaDefinitions,
    SchemaDefinitions,
    registry_revision_of,
    same_meaning,
)
from ecom_contracts._versions import revision
from ecom_contracts_pb.registry_revisions import PUBSUB_DEFINITIONS


@dataclass(frozen=True)
class PublishResult:
    """What happened to one message: its Pub/Sub message id, or why it was refused."""

    index: int
    """Position of the message in what was published."""
    message_id: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether Pub/Sub took the message."""
        return self.error is None


@dataclass(frozen=True)
class TopicSettings:
    """What a topic's schema settings require of its messages."""

    encoding: str
    """BINARY or JSON; BINARY (the project's default) for a topic without a schema."""
    schema: str = ""
    first_revision_id: str = ""
    last_revision_id: str = ""

    def revision_note(self, contract: str, schemas: SchemaDefinitions | None = None) -> str:
        """Return a warning when the topic's newest schema revision is not this build's, else ''.

        The newest revision the topic accepts is read (from ``schemas``, by
        default Pub/Sub) and named by its definition, the way the pipeline
        names a message's revision: by meaning, against the definitions this
        package carries. A revision that cannot be read is said too.
        """
        if not self.schema:
            return ""
        built = revision(contract)
        own = PUBSUB_DEFINITIONS.get(contract, {}).get(built, "")
        newest = f"{self.schema}@{self.last_revision_id}" if self.last_revision_id else self.schema
        try:
            definition = (schemas or PubsubSchemaDefinitions()).definition(newest)
        except SchemaLookupError as error:
            return (
                f"the topic's newest schema revision could not be read ({error}); whether it "
                f"matches this publisher's {built} is not checked"
            )
        if own and same_meaning(definition, own):
            return ""
        named = registry_revision_of(contract, definition)
        topic = f"registry {named}" if named else "none this package knows (a newer release?)"
        return (
            f"the topic's newest accepted schema revision is {topic}; this publisher was built "
            f"from {built}: Pub/Sub refuses a field its accepted revisions do not know"
        )


def read_topic_settings(client: Any, topic: str) -> TopicSettings:
    """Return the schema settings of ``topic`` (its encoding and accepted revision range)."""
    from google.pubsub_v1 import types as pubsub

    settings = client.get_topic(request={"topic": topic}).schema_settings
    if not settings or not settings.schema:
        return TopicSettings("BINARY")
    encoding = pubsub.Encoding(settings.encoding)
    return TopicSettings(
        "JSON" if encoding == pubsub.Encoding.JSON else "BINARY",
        settings.schema,
        settings.first_revision_id,
        settings.last_revision_id,
    )


class Publisher:
    """Publish events or prepared payloads to one topic, with batching and ordering keys.

    ``encoding`` None reads it from the topic's schema settings (the first
    time it is needed); an explicit encoding the topic's schema does not
    take is refused with EncodingError before anything is sent.
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
    ) -> None:
        self.topic = topic
        self._encoding = encoding_name(encoding) if encoding is not None else None
        self._settings: TopicSettings | None = None
        self.resumed_keys: list[str] = []
        """Ordering keys that a refused message paused and the publisher resumed."""
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
    def settings(self) -> TopicSettings:
        """The topic's schema settings, read once."""
        if self._settings is None:
            self._settings = read_topic_settings(self.client, self.topic)
        return self._settings

    @property
    def encoding(self) -> str:
        """The encoding messages are sent in: the explicit one, else the topic's."""
        return self._resolve(self._encoding)

    def _resolve(self, explicit: str | None) -> str:
        required = self.settings.encoding
        if explicit is None:
            return required
        explicit = encoding_name(explicit)
        if self.settings.schema and explicit != required:
            raise EncodingError(
                f"{self.topic} takes {required} messages (its schema settings); "
                f"{explicit} would be refused wholesale"
            )
        return explicit

    def publish_raw(
        self,
        payloads: Iterable[tuple[bytes, dict[str, str]]],
        ordering_keys: Sequence[str] | None = None,
    ) -> list[PublishResult]:
        """Publish prepared ``(data, attributes)`` pairs; wait for and return every result.

        A key paused by a refused message is resumed once every result is in;
        the messages of that key that were not sent say so.
        """
        pending: list[futures.Future[str]] = []
        keys: list[str] = []
        for index, (data, attributes) in enumerate(payloads):
            key = ordering_keys[index] if ordering_keys else ""
            keys.append(key)
            pending.append(self.client.publish(self.topic, data, ordering_key=key, **attributes))
        results = []
        paused: dict[str, int] = {}
        for index, future in enumerate(pending):
            try:
                results.append(PublishResult(index, future.result()))
            except Exception as error:  # noqa: BLE001 - reported per message, e.g. schema rejection
                key = keys[index]
                if key and key in paused:
                    reason = (
                        f"not sent: ordering key {key!r} was paused by the refusal of message "
                        f"{paused[key]}"
                    )
                else:
                    reason = f"{type(error).__name__}: {error}"
                    if key:
                        paused[key] = index
                results.append(PublishResult(index, None, reason))
        for key in paused:
            self.client.resume_publish(self.topic, key)
            self.resumed_keys.append(key)
        return results

    def publish(
        self,
        events: Iterable[Message],
        encoding: str | None = None,
        ordering_key_field: str = "",
    ) -> list[PublishResult]:
        """Validate, encode and publish ``events``; invalid ones are reported, not published.

        ``encoding`` None uses :attr:`encoding` (the topic's schema settings).
        Returns one result per event, in order.
        """
        encoding = self._resolve(encoding if encoding is not None else self._encoding)
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
