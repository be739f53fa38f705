"""Stage 3, decode: parse the payload as its contract, strictly."""

from __future__ import annotations

from google.protobuf.message import Message

from ecom_contracts import DecodeError as PayloadDecodeError
from ecom_contracts import decode as decode_payload
from pipeline.errors import DecodeError
from pipeline.route import Route


def decode(data: bytes, route: Route) -> Message:
    """Return the event in ``data``, parsed as ``route``'s contract and encoding.

    The producers' decoding (``ecom_contracts.decode``): BINARY is parsed by the
    upb runtime; fields a newer contract revision added are kept as unknown
    fields. JSON follows the topic's Pub/Sub schema (an inlined ``Timestamp`` is
    ``{"seconds", "nanos"}``) and is strict: unknown fields, wrong types, bad
    UTF-8 and truncated text are decode errors, except fields a released
    revision had and this one removed (``REMOVED_FIELDS``), which older
    producers may still send and are dropped. Raises DecodeError.
    """
    try:
        return decode_payload(data, route.contract, route.encoding)
    except PayloadDecodeError as error:
        raise DecodeError(str(error)) from None
