"""What a topic takes: its schema settings, the contract it carries, the fields that order it.

The calls to Pub/Sub made on the publisher's behalf are bounded by the same
timeout and retry as publishing (:data:`DEFAULT_TIMEOUT`, :func:`default_retry`).
The contract a topic carries is the one its schema names, else the one whose
``topic_id`` is its id (:func:`topic_contract`). An ordering key is a scalar
field that is not personal data (:func:`check_ordering_key`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from google.protobuf.descriptor import FieldDescriptor

from ecom_contracts._catalog import CONTRACTS, Contract
from ecom_contracts._catalog import contract as find_contract
from ecom_contracts._errors import OrderingKeyError, SchemaLookupError
from ecom_contracts._schema_revisions import (
    PubsubSchemaDefinitions,
    SchemaDefinitions,
    registry_revision_of,
    same_meaning,
)
from ecom_contracts._versions import revision
from ecom_contracts_pb.registry_revisions import PUBSUB_DEFINITIONS

DEFAULT_TIMEOUT: Final = 60.0
"""Seconds a message has to be confirmed by Pub/Sub, retries included (the client's own: 600)."""

_BY_TOPIC_ID: Final = {c.topic_id: c for c in CONTRACTS}
_BY_SCHEMA_ID: Final = {c.schema_id: c for c in CONTRACTS}
_SCALARS: Final = frozenset(
    {
        FieldDescriptor.TYPE_STRING,
        FieldDescriptor.TYPE_ENUM,
        FieldDescriptor.TYPE_BOOL,
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SFIXED64,
    }
)


def default_retry(timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Return the default retry: Pub/Sub's retryable errors, backing off, ``timeout`` s in all.

    The errors the client library retries by default (unavailable, deadline
    exceeded, aborted...), from 0.1 s doubling to at most 10 s between
    attempts, and no attempt after ``timeout`` seconds (the library's own
    default keeps trying for 600 s). With message ordering the client library
    retries without end whatever is passed, to keep the order; the publisher's
    timeout still bounds the wait for each result.
    """
    from google.api_core import exceptions
    from google.api_core.retry import Retry, if_exception_type

    return Retry(
        predicate=if_exception_type(
            exceptions.Aborted,
            exceptions.Cancelled,
            exceptions.DeadlineExceeded,
            exceptions.InternalServerError,
            exceptions.ResourceExhausted,
            exceptions.ServiceUnavailable,
            exceptions.Unknown,
        ),
        initial=0.1,
        maximum=10.0,
        multiplier=2.0,
        timeout=timeout,
    )


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


def read_topic_settings(client: Any, topic: str, timeout: float = DEFAULT_TIMEOUT) -> TopicSettings:
    """Return the schema settings of ``topic`` (its encoding and accepted revision range).

    Needs ``pubsub.topics.get`` on the topic; the read gives up after
    ``timeout`` seconds. Errors are the client library's (``PermissionDenied``...).
    """
    from google.pubsub_v1 import types as pubsub

    settings = client.get_topic(
        request={"topic": topic}, retry=default_retry(timeout), timeout=timeout
    ).schema_settings
    if not settings or not settings.schema:
        return TopicSettings("BINARY")
    encoding = pubsub.Encoding(settings.encoding)
    return TopicSettings(
        "JSON" if encoding == pubsub.Encoding.JSON else "BINARY",
        settings.schema,
        settings.first_revision_id,
        settings.last_revision_id,
    )


def topic_contract(topic: str, settings: TopicSettings | None = None) -> Contract | None:
    """Return the contract ``topic`` carries, by its schema's id, else by its own id; or None.

    A topic with a schema carries the contract of that schema (``order-event``);
    one without, or whose settings were not read, the contract whose ``topic_id``
    is its id (``.../topics/order-events``). None when neither names a contract.
    """
    if settings is not None and settings.schema:
        found = _BY_SCHEMA_ID.get(settings.schema.rsplit("/", 1)[-1])
        if found is not None:
            return found
    return _BY_TOPIC_ID.get(topic.rsplit("/", 1)[-1])


def check_ordering_key(contract: Contract | str, field: str) -> None:
    """Raise OrderingKeyError unless ``field`` of ``contract`` can be an ordering key.

    An ordering key is shown in the clear wherever the message is (consoles,
    dead letters, logs), so it is a top-level scalar field (string, integer,
    enum or bool) of the event that is not personal data: no message, repeated
    or bytes field, and none the warehouse tags PII (``Contract.pii_fields``,
    from the column lineage).
    """
    chosen = find_contract(contract) if isinstance(contract, str) else contract
    found = chosen.message.DESCRIPTOR.fields_by_name.get(field)
    if found is None:
        raise OrderingKeyError(f"{chosen.name} has no field {field!r} to order by")
    personal = [p for p in chosen.pii_fields if p == field or p.startswith(f"{field}.")]
    if personal:
        raise OrderingKeyError(
            f"{chosen.name}.{field} is personal data (the warehouse tags {', '.join(personal)} "
            "PII): an ordering key is shown in the clear; order by an id such as order_id"
        )
    if found.is_repeated or found.type not in _SCALARS:
        kind = "repeated" if found.is_repeated else "message" if found.message_type else "bytes"
        raise OrderingKeyError(
            f"{chosen.name}.{field} is a {kind} field: an ordering key is a scalar field "
            "(string, integer, enum or bool)"
        )
