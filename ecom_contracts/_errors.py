"""What the package refuses, one error type per failure kind.

ContractError
├── UnknownContractError  a name maps to no contract of this release
├── DecodeError           a payload does not parse as its contract in its encoding
├── InvalidEventError     an event breaks its contract's rules (carries the violations)
├── EncodingError         an encoding that is not BINARY or JSON, or that the topic refuses
├── TopicMismatchError    an event of one contract for a topic that carries another
└── OrderingKeyError      a field that cannot order messages (unknown, not a scalar, or PII)

SchemaLookupError         a topic's schema settings or a schema revision could not be read
ValidationEngineMismatchError  generated rules and protovalidate disagree (a bug; cross-checks)

PublishError              a message Pub/Sub did not take (reported in its result, not raised)
├── PublishRefusedError   Pub/Sub answered with an error (schema, not found, permission)
├── PublishTimeoutError   no answer within the publisher's timeout (it may still arrive)
└── KeyHeldError          not sent: an earlier message of its ordering key was refused

Callers catch by category: ``except ContractError`` is everything this
package refuses on purpose; ``SchemaLookupError`` is Pub/Sub not answering
a read (permission, not found, unreachable); any other exception is a bug.
A ``PublishError`` is never raised by publishing: each message's result
carries its refusal (``PublishResult.refusal``): an ``InvalidEventError`` or
one of these.
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


class TopicMismatchError(ContractError):
    """An event of one contract for a topic that carries another (by its schema or its id)."""


class OrderingKeyError(ContractError):
    """A field that cannot be an ordering key: unknown, not a scalar, or personal data (PII)."""


class SchemaLookupError(Exception):
    """A topic's schema settings or a schema revision could not be read (not a refusal)."""


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


class PublishError(Exception):
    """A message Pub/Sub did not take; its result carries this, publishing raises nothing."""


class PublishRefusedError(PublishError):
    """Pub/Sub answered with an error: a schema refusal, a missing topic, a denied permission."""


class PublishTimeoutError(PublishError):
    """No answer within the publisher's timeout; the client may still deliver the message."""


class KeyHeldError(PublishError):
    """Not sent: an earlier message of its ordering key was refused; ``resume(key)`` sends again."""

    def __init__(self, key: str, cause: str) -> None:
        super().__init__(
            f"not sent: ordering key {key!r} is held since an earlier message of it was refused "
            f"({cause}); resume the key to send its messages again"
        )
        self.key = key
