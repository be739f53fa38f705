"""What the package refuses, one error type per failure kind.

ContractError
├── UnknownContractError  a name maps to no contract of this release
├── DecodeError           a payload does not parse as its contract in its encoding
├── InvalidEventError     an event breaks its contract's rules (carries the violations)
└── EncodingError         an encoding that is not BINARY or JSON, or that the topic refuses

SchemaLookupError         a Pub/Sub schema revision could not be read (not a refusal)
ValidationEngineMismatchError  generated rules and protovalidate disagree (a bug; cross-checks)

Callers catch by category: ``except ContractError`` is everything this
package refuses on purpose; ``SchemaLookupError`` is Pub/Sub not answering
a read (permission, not found, unreachable); any other exception is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecom_contracts._validation import Violation


class ContractError(Exception):
    """Something this package refuses: a name, a payload, an event or an encoding."""


class UnknownContractError(ContractError):
    """A name maps to no contract of this release."""


class DecodeError(ContractError):
    """A payload does not parse as its contract in its encoding."""


class InvalidEventError(ContractError):
    """An event breaks one or more of its contract's rules; ``violations`` says which."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        super().__init__(
            f"{len(violations)} rule(s) broken: "
            + "; ".join(f"{v.field_path or '(message)'}: {v.rule_id}" for v in violations)
        )
        self.violations = list(violations)


class EncodingError(ContractError):
    """An encoding that is neither BINARY nor JSON, or one the topic's schema settings refuse."""


class SchemaLookupError(Exception):
    """A Pub/Sub schema revision could not be read: permission, not found, or unreachable."""


class ValidationEngineMismatchError(Exception):
    """The generated rules and protovalidate judged one event differently: a bug, not bad data."""

    def __init__(
        self,
        contract: str,
        generated: Sequence[tuple[str, str, str]],
        protovalidate: Sequence[tuple[str, str, str]],
    ) -> None:
        super().__init__(
            f"{contract}: the generated rules found {list(generated)}, protovalidate found "
            f"{list(protovalidate)}; run `make proto`, and report it if it persists"
        )
        self.generated = list(generated)
        self.protovalidate = list(protovalidate)
