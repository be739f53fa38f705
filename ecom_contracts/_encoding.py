"""Pub/Sub payloads: an event encoded as its topic's schema settings require, and back.

BINARY is the protobuf wire format. JSON is the shape Pub/Sub validates a
JSON-encoded topic's messages against: the topic's self-contained Pub/Sub
schema (``pubsub_schemas/``), in which an inlined ``Timestamp`` is
``{"seconds": ..., "nanos": ...}`` rather than an RFC 3339 string. Decoding
is exactly the pipeline's (stage 3, ``pipeline/decode.py`` calls it).
"""

from __future__ import annotations

import json
import os
from typing import Any, Final, NamedTuple, TypeVar, cast

from google.protobuf import json_format
from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message

from ecom_contracts._catalog import contract_of
from ecom_contracts._errors import DecodeError, EncodingError
from ecom_contracts._validation import validate as validate_event
from ecom_contracts_pb.catalog import EventContract
from ecom_contracts_pb.json_decoders import decode_json
from ecom_contracts_pb.registry_revisions import REMOVED_FIELDS

ENCODINGS: Final = ("BINARY", "JSON")
JSON_DECODERS: Final = ("generated", "json_format")
"""How JSON payloads are read: generated decoders where they apply (the default), or json_format
alone (``ECOM_JSON_DECODER=json_format``); both give the same events and the same errors."""
EventT = TypeVar("EventT", bound=Message)

# Attributes the publisher sets on every message; the pipeline routes and reports by them.
CONTRACT_ATTRIBUTE: Final = "ecom_contract"
"""The contract's full name, for example ``ecom.events.v1.OrderEvent``."""
ENCODING_ATTRIBUTE: Final = "ecom_encoding"
"""``BINARY`` or ``JSON``."""
REVISION_ATTRIBUTE: Final = "ecom_revision"
"""The registry revision of the contract the producer was built against, for example ``r1``."""

# Attributes Pub/Sub adds when the topic has a schema; they outrank the publisher's own.
SCHEMA_NAME_ATTRIBUTE: Final = "googclient_schemaname"
"""The schema's resource name, ending in its id (``.../schemas/order-event``)."""
SCHEMA_ENCODING_ATTRIBUTE: Final = "googclient_schemaencoding"
"""``BINARY`` or ``JSON``, as the topic's schema settings require."""
SCHEMA_REVISION_ATTRIBUTE: Final = "googclient_schemarevisionid"
"""The id of the schema revision the message was checked against."""


class Encoded(NamedTuple):
    """One message ready to publish: its payload and the attributes the pipeline reads."""

    data: bytes
    attributes: dict[str, str]


def encoding_name(encoding: str) -> str:
    """Return ``encoding`` as BINARY or JSON (any case); raises EncodingError for anything else."""
    upper = encoding.upper()
    if upper not in ENCODINGS:
        raise EncodingError(f"encoding must be BINARY or JSON, not {encoding!r}")
    return upper


def encode(event: Message, encoding: str = "BINARY", *, validate: bool = True) -> Encoded:
    """Return ``event``'s payload in ``encoding`` with its routing attributes.

    The attributes name the contract, the encoding and the contract's
    revision in this build. Raises InvalidEventError when ``validate`` and
    the event breaks its contract's rules, UnknownContractError for a message
    that is no event contract, EncodingError for an encoding other than
    BINARY or JSON.
    """
    contract = contract_of(event)
    encoding = encoding_name(encoding)
    if validate:
        validate_event(event)
    wire = event.SerializeToString()
    if encoding == "JSON":
        shaped = contract.pubsub_message.FromString(wire)
        data = json_format.MessageToJson(shaped, indent=None).encode()
    else:
        data = wire
    attributes = {CONTRACT_ATTRIBUTE: contract.name, ENCODING_ATTRIBUTE: encoding}
    if contract.revision:
        attributes[REVISION_ATTRIBUTE] = contract.revision
    return Encoded(data, attributes)


def decode(data: bytes, contract: EventContract[EventT], encoding: str = "BINARY") -> EventT:
    """Return the event in ``data``, parsed as ``contract`` in ``encoding`` (BINARY or JSON).

    Typed by the contract: ``decode(data, contract("order-event")).items`` type-checks.

    BINARY is parsed by the upb runtime; fields a newer contract revision added
    are kept as unknown fields. JSON is strict: unknown fields, wrong types,
    bad UTF-8 and truncated text are refused, except fields a released revision
    had and this one removed (``ecom_contracts_pb.registry_revisions.REMOVED_FIELDS``), which
    older producers may still send and are dropped. Raises DecodeError.
    """
    if encoding == "BINARY":
        try:
            return contract.message.FromString(data)
        except ProtobufDecodeError as error:
            raise DecodeError(f"not a binary {contract.name}: {error}") from None
    if encoding != "JSON":
        raise EncodingError(f"encoding must be BINARY or JSON, not {encoding!r}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DecodeError(f"JSON payload is not UTF-8: {error}") from None
    if _json_decoder == "generated":
        decoded = decode_json(contract.name, text)
        if decoded is not None:
            return cast(EventT, decoded)
    return decode_with_json_format(text, contract)


def use_json_decoder(name: str) -> None:
    """Read JSON payloads with ``name`` (see :data:`JSON_DECODERS`) from now on."""
    global _json_decoder
    if name not in JSON_DECODERS:
        raise ValueError(f"unknown JSON decoder {name!r}; use one of {', '.join(JSON_DECODERS)}")
    _json_decoder = name


_json_decoder = "generated"
use_json_decoder(os.environ.get("ECOM_JSON_DECODER", "generated") or "generated")


def decode_with_json_format(text: str, contract: EventContract[EventT]) -> EventT:
    """Return the event in JSON ``text`` as ``json_format`` reads it (the fast path's oracle).

    The generated decoders (``ecom_contracts_pb/json_decoders.py``) take the plainest
    documents; every other one, and every error, is this function's.
    """
    removed = REMOVED_FIELDS.get(contract.name)
    if removed:
        text = _without_removed_fields(text, removed)
    try:
        shaped = json_format.Parse(text, contract.pubsub_message(), ignore_unknown_fields=False)
    except (json_format.ParseError, RecursionError) as error:
        raise DecodeError(f"not a JSON {contract.name}: {first_line(error)}") from None
    return contract.message.FromString(shaped.SerializeToString())


def first_line(error: BaseException) -> str:
    """Return the first line of ``error``'s text (at most 300 characters), or its type's name."""
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:300]


def _without_removed_fields(text: str, removed: list[list[list[str]]]) -> str:
    """Return JSON ``text`` without the keys of removed fields (paths of ``REMOVED_FIELDS``).

    Text that is not JSON, or repeats a key, is returned as it is: the strict
    parse reports it.
    """
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys)
        for path in removed:
            _drop(document, path)
        return json.dumps(document)
    except (ValueError, RecursionError):
        return text


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise ValueError("duplicate key")
    return document


def _drop(node: Any, path: list[list[str]]) -> None:
    """Drop the keys at the end of ``path`` from ``node``, through lists element by element."""
    if isinstance(node, list):
        for item in node:
            _drop(item, path)
    elif isinstance(node, dict):
        keys, rest = path[0], path[1:]
        for key in keys:
            if not rest:
                node.pop(key, None)
            elif key in node:
                _drop(node[key], rest)
