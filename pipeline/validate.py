"""Stage 4, validate: check a decoded event against its contract's protovalidate rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import protovalidate
from google.protobuf.message import Message

_validator = protovalidate.Validator()


@dataclass(frozen=True)
class Violation:
    """One broken rule of a contract, as the dead-letter record carries it."""

    field_path: str
    """Path of the offending field, for example ``items[0].quantity``; empty for message rules."""
    rule_id: str
    """Identifier of the broken rule, for example ``int32.gt`` or ``inventory.quantity_sign``."""
    message: str
    """Human-readable explanation."""


def collect_violations(event: Message) -> list[Violation]:
    """Return every rule ``event`` breaks, in protovalidate's order; empty when valid."""
    return [
        Violation(
            field_path=field_path(found.proto.field.elements if found.proto.field else ()),
            rule_id=found.proto.rule_id,
            message=found.proto.message,
        )
        for found in _validator.collect_violations(event)
    ]


def field_path(elements: Any) -> str:
    """Render protovalidate's FieldPath elements as ``items[0].unit_price`` / ``labels["k"]``."""
    rendered = ""
    for element in elements:
        rendered += f".{element.field_name}" if rendered else element.field_name
        subscript = element.subscript
        if subscript is not None:
            key = subscript.value
            rendered += f'["{key}"]' if isinstance(key, str) else f"[{key}]"
    return rendered
