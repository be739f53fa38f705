"""Stage 3, decode: parse the payload as its contract, strictly."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message

from ecom.registry_revisions import REMOVED_FIELDS
from pipeline.errors import DecodeError
from pipeline.route import Route


def decode(data: bytes, route: Route) -> Message:
    """Return the event in ``data``, parsed as ``route``'s contract and encoding.

    BINARY is parsed by the upb runtime; fields a newer contract revision added
    are kept as unknown fields (see :func:`unknown_field_count`). JSON follows the
    topic's Pub/Sub schema (an inlined ``Timestamp`` is ``{"seconds", "nanos"}``)
    and is strict: unknown fields, wrong types, bad UTF-8 and truncated text are
    decode errors, except fields a released revision had and this one removed
    (``REMOVED_FIELDS``), which older producers may still send and are dropped.
    Raises DecodeError.
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
    removed = REMOVED_FIELDS.get(contract.name)
    if removed:
        text = _without_removed_fields(text, removed)
    try:
        shaped = json_format.Parse(text, contract.pubsub_message(), ignore_unknown_fields=False)
    except (json_format.ParseError, RecursionError) as error:
        raise DecodeError(f"not a JSON {contract.name}: {_first_line(error)}") from None
    return contract.message.FromString(shaped.SerializeToString())


def _first_line(error: BaseException) -> str:
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
