"""What is wrong with a JSON event, said in terms a producer can act on.

protobuf's JSON parser stops at the first problem and words it for protobuf
(``Failed to parse JSON: TypeError: 'NoneType' object is not iterable``,
``has no field named "c"`` for a string where a message belongs), takes ``[]``
for an empty event, and its timestamp error shows only part of the value.
:func:`shape_problems` walks a parsed JSON document against the contract's
message first and names the field, what belongs there and what was found;
keys the contract does not know are collected separately (``unknown_fields``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final, cast

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

_RFC3339: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})"
)
TIMESTAMP_FORM: Final = (
    'an RFC 3339 timestamp with Z or an offset, for example "2025-12-01T10:00:00Z" or '
    '"2025-12-01T11:00:00+01:00"'
)
_WELL_KNOWN: Final = "google.protobuf."


@dataclass
class Shape:
    """What the walk found: the first problem of shape, and every key the contract lacks."""

    problem: str = ""
    unknown: list[str] = field(default_factory=list)
    """Paths of the keys the contract does not know (``customer.coupon``, ``items[0].x``)."""
    document: Any = None
    _places: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    def without_unknown(self) -> Any:
        """Return the document without the unknown keys (it is changed in place)."""
        for node, key in self._places:
            node.pop(key, None)
        self._places.clear()
        return self.document


def json_kind(value: Any) -> str:
    """Return how a JSON value is called: ``null``, ``an array``, ``a string "x"``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f'the string "{shown}"'
    if isinstance(value, list):
        return "an array"
    return "an object"


def shape_problems(document: Any, message: type[Message], *, proto3_timestamps: bool) -> Shape:
    """Return what is wrong with ``document`` as a JSON ``message``, beyond values' ranges.

    ``proto3_timestamps``: a ``google.protobuf.Timestamp`` is an RFC 3339
    string (the contract's proto3 JSON); otherwise the Pub/Sub schema's shape
    has it as an object, walked like any message.
    """
    shape = Shape(document=document)
    descriptor = cast(Descriptor, message.DESCRIPTOR)
    if not isinstance(document, dict):
        shape.problem = (
            f"a line holds one event as a JSON object ({{...}}) of {descriptor.full_name}, "
            f"not {json_kind(document)}"
        )
        return shape
    _walk(document, descriptor, "", shape, proto3_timestamps)
    return shape


def _walk(node: dict[str, Any], message: Descriptor, path: str, shape: Shape, ts: bool) -> None:
    by_json = {f.json_name: f for f in message.fields}
    for key, value in node.items():
        found = by_json.get(key) or message.fields_by_name.get(key)
        where = f"{path}{key}"
        if found is None:
            shape.unknown.append(where)
            shape._places.append((node, key))
            continue
        if shape.problem or value is None or found.message_type is None:
            continue
        if found.message_type.GetOptions().map_entry:
            if not isinstance(value, dict):
                shape.problem = f"{where}: a JSON object (a map) belongs here, not " + json_kind(
                    value
                )
            continue
        if found.is_repeated:
            if not isinstance(value, list):
                shape.problem = (
                    f"{where}: an array of {found.message_type.full_name} belongs here, "
                    f"not {json_kind(value)}"
                )
                continue
            for index, item in enumerate(value):
                _one(item, found.message_type, f"{where}[{index}]", shape, ts)
        else:
            _one(value, found.message_type, where, shape, ts)


def _one(value: Any, message: Descriptor, where: str, shape: Shape, ts: bool) -> None:
    if shape.problem:
        return
    if ts and message.full_name == "google.protobuf.Timestamp":
        if not isinstance(value, str):
            shape.problem = f"{where}: {TIMESTAMP_FORM} belongs here, not {json_kind(value)}"
        elif not _RFC3339.fullmatch(value):
            shape.problem = f'{where}: "{value}" is not {TIMESTAMP_FORM}'
        return
    if message.full_name.startswith(_WELL_KNOWN):
        return  # other well-known types have JSON forms of their own: protobuf's parser judges
    if value is None:
        shape.problem = (
            f"{where}: null where a {message.full_name} (a JSON object) belongs; "
            "leave the field out instead"
        )
    elif not isinstance(value, dict):
        shape.problem = (
            f"{where}: a {message.full_name} (a JSON object {{...}}) belongs here, "
            f"not {json_kind(value)}"
        )
    else:
        _walk(value, message, f"{where}.", shape, ts)
