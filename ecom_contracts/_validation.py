"""The contracts' rules (protovalidate annotations in the contracts), checked on one event.

:func:`collect_violations` returns what an event breaks and raises nothing (the
pipeline's per-event path calls it); :func:`validate` raises InvalidEventError.

The rules run as code generated from the contracts by ``make proto``
(``ecom_contracts_pb/validation.py``), which reports exactly what protovalidate reports, in
the same order and words, in a fraction of its time; a rule the generator
does not compile is evaluated by protovalidate itself. protovalidate stays
available: ``ECOM_VALIDATION_ENGINE=protovalidate`` uses it alone, and
``ECOM_VALIDATION_ENGINE=cross-check`` runs both on every event and raises
ValidationEngineMismatchError where they differ (for a cross-check run, not for
production).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from google.protobuf.message import Message

from ecom_contracts._errors import InvalidEventError, ValidationEngineMismatchError
from ecom_contracts_pb import validation as _generated

VALIDATION_ENGINES: Final = ("generated", "protovalidate", "cross-check")
"""The ways to check the rules: generated code (the default), protovalidate, or both compared."""

_Found = tuple[str, str, str]


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


def _cross_check(event: Message) -> list[_Found]:
    generated = _generated.violations(event)
    oracle = _generated.protovalidate_violations(event)
    if generated != oracle:
        raise ValidationEngineMismatchError(event.DESCRIPTOR.full_name, generated, oracle)
    return generated


_ENGINE_FUNCTIONS: Final[dict[str, Callable[[Message], list[_Found]]]] = {
    "generated": _generated.violations,
    "protovalidate": _generated.protovalidate_violations,
    "cross-check": _cross_check,
}
_engine = _ENGINE_FUNCTIONS["generated"]
_engine_name = "generated"


def use_validation_engine(name: str) -> None:
    """Check the rules with ``name`` (see :data:`VALIDATION_ENGINES`) from now on."""
    global _engine, _engine_name
    if name not in _ENGINE_FUNCTIONS:
        raise ValueError(
            f"unknown validation engine {name!r}; use one of {', '.join(VALIDATION_ENGINES)}"
        )
    _engine, _engine_name = _ENGINE_FUNCTIONS[name], name


def validation_engine() -> str:
    """Return the engine checking the rules now (one of :data:`VALIDATION_ENGINES`).

    Code that compiles the same rules into its own fast path (the pipeline's
    checking row builders) takes it only while this is ``generated``.
    """
    return _engine_name


use_validation_engine(os.environ.get("ECOM_VALIDATION_ENGINE", "generated") or "generated")


def collect_violations(event: Message) -> list[Violation]:
    """Return every rule ``event`` breaks, in protovalidate's order; empty when valid."""
    found = _engine(event)
    if not found:
        return []
    return [Violation(path, rule_id, message) for path, rule_id, message in found]


def validate(event: Message) -> None:
    """Raise InvalidEventError, with every violation, when ``event`` breaks its contract's rules."""
    violations = collect_violations(event)
    if violations:
        raise InvalidEventError(violations)
