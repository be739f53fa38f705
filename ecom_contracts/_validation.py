"""The contracts' rules (protovalidate annotations in the contracts), checked on one event.

:func:`collect_violations` returns what an event breaks and raises nothing (the
pipeline's per-event path calls it); :func:`validate` raises InvalidEventError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import protovalidate
from google.protobuf.message import Message

from ecom_contracts._errors import InvalidEventError

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

    def __str__(self) -> str:
        return f"{self.field_path or '(message)'}: {self.rule_id}: {self.message}"


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


def validate(event: Message) -> None:
    """Raise InvalidEventError, with every violation, when ``event`` breaks its contract's rules."""
    violations = collect_violations(event)
    if violations:
        raise InvalidEventError(violations)


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
