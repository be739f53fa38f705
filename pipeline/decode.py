"""Stage 3, decode: parse the payload as its contract, strictly."""

from __future__ import annotations

from google.protobuf.message import Message

import ecom_contracts
from pipeline.errors import MalformedPayloadError
from pipeline.route import Route


def decode(data: bytes, route: Route) -> Message:
    """Return the event in ``data``, parsed as ``route``'s contract and encoding.

    The producers' decoding (``ecom_contracts.decode``): BINARY is parsed by the
    upb runtime; fields a newer contract revision added are kept as unknown
    fields. JSON follows the topic's Pub/Sub schema (an inlined ``Timestamp`` is
    ``{"seconds", "nanos"}``) and is strict: unknown fields, wrong types, bad
    UTF-8 and truncated text are decode errors, except fields a released
    revision had and this one removed (``REMOVED_FIELDS``), which older
    producers may still send and are dropped. Raises MalformedPayloadError,
    whose cause is the producers' ``ecom_contracts.DecodeError``.
    """
    try:
        return ecom_contracts.decode(data, route.contract, route.encoding)
    except ecom_contracts.DecodeError as error:
        raise MalformedPayloadError(error) from error
