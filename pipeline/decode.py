"""Stage 3, decode: parse the payload as its contract, strictly."""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message

from pipeline.errors import DecodeError
from pipeline.route import Route


def decode(data: bytes, route: Route) -> Message:
    """Return the event in ``data``, parsed as ``route``'s contract and encoding.

    BINARY is parsed by the upb runtime; fields a newer contract revision added
    are kept as unknown fields (see :func:`unknown_field_count`). JSON follows the
    topic's Pub/Sub schema (an inlined ``Timestamp`` is ``{"seconds", "nanos"}``)
    and is strict: unknown fields, wrong types, bad UTF-8 and truncated text are
    decode errors. Raises DecodeError.
    """
    contract = route.contract
    if route.encoding == "BINARY":
        try:
            return contract.message.FromString(data)
        except ProtobufDecodeError as error:
            raise DecodeError(f"not a binary {contract.name}: {error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DecodeError(f"JSON payload is not UTF-8: {error}") from None
    try:
        shaped = json_format.Parse(text, contract.pubsub_message(), ignore_unknown_fields=False)
    except (json_format.ParseError, RecursionError) as error:
        raise DecodeError(f"not a JSON {contract.name}: {_first_line(error)}") from None
    return contract.message.FromString(shaped.SerializeToString())


def _first_line(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:300]
