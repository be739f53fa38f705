"""Check a file of events against a contract before publishing it: what CI runs.

A file holds one event per line, in one of these formats (``auto`` tells the
first from the last line by line):

``json``
    the contract's proto3 JSON (``{"eventId": "e1", "eventTimestamp":
    "2025-12-01T10:00:00Z", ...}``), as every protobuf runtime writes it;
``pubsub-json``
    payloads as a JSON-encoded topic carries them (the Pub/Sub schema's shape:
    ``"eventTimestamp": {"seconds": "1764583200"}``);
``replay``
    the project's replay records, ``{"data": base64, "attributes": {...}, ...}``
    (Pub/Sub's REST shape, the dead-letter files' first fields): the payload is
    BINARY unless its attributes say JSON, and attributes naming another
    contract are refused.

Each line becomes an event or a :class:`Refusal`; an event is then checked
against the contract's rules. Fields this release does not know (a binary
payload of a newer revision, or of another contract) are refused too: the
pipeline would keep them aside instead of landing them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from google.protobuf import json_format, unknown_fields
from google.protobuf.message import Message

from ecom_contracts._catalog import BY_SCHEMA_ID, CONTRACTS, Contract
from ecom_contracts._encoding import (
    CONTRACT_ATTRIBUTE,
    ENCODING_ATTRIBUTE,
    ENCODINGS,
    SCHEMA_ENCODING_ATTRIBUTE,
    SCHEMA_NAME_ATTRIBUTE,
    decode,
    first_line,
)
from ecom_contracts._errors import DecodeError
from ecom_contracts._json_shape import Shape, shape_problems
from ecom_contracts._validation import Violation, collect_violations

FORMATS: Final = ("auto", "json", "pubsub-json", "replay")

BOM: Final = "\ufeff"
"""The UTF-8 byte order mark, skipped at the start of a file."""

# Kinds of refusal, as the check prints them.
INVALID: Final = "invalid"
MALFORMED: Final = "malformed"
WRONG_CONTRACT: Final = "wrong_contract"
UNKNOWN_FIELDS: Final = "unknown_fields"


@dataclass(frozen=True)
class Refusal:
    """One event the check refuses: where it is, what kind of refusal, and why."""

    source: str
    """The file's name (``-`` for standard input)."""
    line: int
    kind: str
    """``invalid``, ``malformed``, ``wrong_contract`` or ``unknown_fields``."""
    detail: str
    violations: tuple[Violation, ...] = ()
    """For ``invalid``: every broken rule, with its field path and rule id."""

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.kind}: {self.detail}"


@dataclass
class CheckResult:
    """What a check found: how many events it read and which it refused."""

    contract: Contract
    events: int = 0
    """Non-blank lines checked."""
    refusals: list[Refusal] = field(default_factory=list)
    accepted: list[tuple[int, Message]] = field(default_factory=list, repr=False)
    """With ``keep``: every event that passed, with its line number (what to publish)."""

    @property
    def ok(self) -> bool:
        """Whether there was something to check and nothing was refused."""
        return self.events > 0 and not self.refusals


def read_events(
    lines: Iterable[str | bytes], contract: Contract, fmt: str = "auto", source: str = "-"
) -> Iterator[tuple[int, Message | Refusal]]:
    """Yield ``(line number, event or refusal)`` per non-blank line; the rules are not checked."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as error:
            yield number, Refusal(source, number, MALFORMED, f"not UTF-8: {error}")
            continue
        if number == 1:
            text = text.removeprefix(BOM)  # written by some editors and Windows tools
        if not text.strip():
            continue
        try:
            yield number, _parse(text, contract, fmt)
        except _RefusedLineError as refused:
            yield number, Refusal(source, number, refused.kind, refused.detail)


def check_events(
    lines: Iterable[str | bytes],
    contract: Contract,
    fmt: str = "auto",
    source: str = "-",
    *,
    keep: bool = False,
) -> CheckResult:
    """Check every line of ``lines`` against ``contract`` and its rules.

    ``keep``: also return the events that passed (``CheckResult.accepted``).
    """
    result = CheckResult(contract)
    for number, parsed in read_events(lines, contract, fmt, source):
        result.events += 1
        if isinstance(parsed, Refusal):
            result.refusals.append(parsed)
            continue
        violations = collect_violations(parsed)
        if violations:
            detail = "; ".join(str(v) for v in violations)
            result.refusals.append(Refusal(source, number, INVALID, detail, tuple(violations)))
            continue
        unknown = unknown_field_paths(parsed)
        if unknown:
            result.refusals.append(
                Refusal(
                    source, number, UNKNOWN_FIELDS,
                    f"field number(s) {', '.join(unknown)} are not in {contract.name} "
                    f"{contract.revision}: a newer revision (upgrade ecom-contracts) or "
                    "another contract",
                )
            )  # fmt: skip
            continue
        if keep:
            result.accepted.append((number, parsed))
    return result


def check_file(path: str | Path, contract: Contract, fmt: str = "auto") -> CheckResult:
    """Check the events in the file at ``path`` (see the module's formats); raises OSError."""
    with Path(path).open("rb") as stream:
        return check_events(stream, contract, fmt, source=str(path))


def unknown_field_paths(event: Message, prefix: str = "") -> list[str]:
    """Return the unknown fields of ``event`` and its nested messages (``12``, ``items[0].9``)."""
    unknown = unknown_fields.UnknownFieldSet(event)
    found = [f"{prefix}{unknown[index].field_number}" for index in range(len(unknown))]
    for descriptor, value in event.ListFields():
        if descriptor.message_type is None or descriptor.message_type.GetOptions().map_entry:
            continue
        if descriptor.is_repeated:
            for index, item in enumerate(value):
                found += unknown_field_paths(item, f"{prefix}{descriptor.name}[{index}].")
        else:
            found += unknown_field_paths(value, f"{prefix}{descriptor.name}.")
    return found


class _RefusedLineError(Exception):
    """A line that is no event of the contract (internal: becomes a Refusal)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind, self.detail = kind, detail


def _parse(text: str, contract: Contract, fmt: str) -> Message:
    if fmt == "replay" or (fmt == "auto" and _is_replay_record(text, contract)):
        return _parse_replay(text, contract)
    pubsub = fmt == "pubsub-json"
    shape = _shape(text, contract.pubsub_message if pubsub else contract.message, pubsub)
    try:
        if pubsub:
            return decode(text.encode(), contract, "JSON")
        return json_format.Parse(text, contract.message())
    except DecodeError as error:
        detail = str(error)
    except (json_format.ParseError, RecursionError) as error:
        detail = f"not a {contract.name} in JSON: {first_line(error)}"
    kind, detail = _explained(text, contract, pubsub, shape, detail)
    raise _refused_for(text, contract, fmt, kind, detail) from None


def _shape(text: str, message: type[Message], pubsub: bool) -> Shape:
    """Return what is wrong with the JSON ``text``; refuse at once a line that is no object.

    Text that is not JSON yields no findings: the parser's own message says where.
    """
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return Shape()
    shape = shape_problems(document, message, proto3_timestamps=not pubsub)
    if not isinstance(document, dict):
        raise _RefusedLineError(MALFORMED, shape.problem)
    return shape


def _explained(
    text: str, contract: Contract, pubsub: bool, shape: Shape, detail: str
) -> tuple[str, str]:
    """Return the kind and detail of a line the parser refused, said as a producer can act.

    Keys the contract does not know are ``unknown_fields`` when nothing else is wrong.
    """
    if shape.problem:
        return MALFORMED, f"not a {contract.name}: {shape.problem}"
    if not shape.unknown:
        return MALFORMED, detail
    unknown = (
        f"field(s) {', '.join(shape.unknown)} are not in {contract.name} {contract.revision}: "
        "a newer revision (upgrade ecom-contracts), another contract, or a misspelt name"
    )
    message = contract.pubsub_message if pubsub else contract.message
    try:
        json_format.ParseDict(shape.without_unknown(), message())
    except (json_format.ParseError, RecursionError) as error:
        return MALFORMED, f"not a {contract.name} in JSON: {first_line(error)}; and {unknown}"
    return UNKNOWN_FIELDS, unknown


def _refused_for(
    text: str, contract: Contract, fmt: str, kind: str, detail: str
) -> _RefusedLineError:
    """Refuse a line that does not parse; say so when it is another contract or format."""
    for other in CONTRACTS:
        if other is not contract and _parses(text, other, fmt):
            return _RefusedLineError(
                WRONG_CONTRACT,
                f"not a {contract.name} but a {other.name} (--contract {other.schema_id})",
            )
    alternative = "json" if fmt == "pubsub-json" else "pubsub-json"
    if _parses(text, contract, alternative):
        detail += f" (it is a {contract.name} in the {alternative} format: --format {alternative})"
        kind = MALFORMED
    return _RefusedLineError(kind, detail)


def _parses(text: str, contract: Contract, fmt: str) -> bool:
    try:
        if fmt == "pubsub-json":
            decode(text.encode(), contract, "JSON")
        else:
            json_format.Parse(text, contract.message())
    except (DecodeError, json_format.ParseError, RecursionError):
        return False
    return True


def _is_replay_record(text: str, contract: Contract) -> bool:
    """Return whether ``text`` is a JSON object with a string ``data``: a replay record.

    No event contract has a field named ``data``, so an event is never taken for one.
    """
    if "data" in contract.message.DESCRIPTOR.fields_by_name or '"data"' not in text:
        return False
    try:
        parsed: Any = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("data"), str)


def _parse_replay(text: str, contract: Contract) -> Message:
    try:
        record: Any = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise _RefusedLineError(
            MALFORMED, f"not a replay record (JSON): {first_line(error)}"
        ) from None
    if not isinstance(record, dict) or not isinstance(record.get("data", ""), str):
        raise _RefusedLineError(MALFORMED, "a replay record is a JSON object with base64 `data`")
    attributes = record.get("attributes") or {}
    if not isinstance(attributes, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()
    ):
        raise _RefusedLineError(MALFORMED, "replay `attributes` must map strings to strings")
    try:
        data = base64.b64decode(record.get("data", ""), validate=True)
    except (binascii.Error, ValueError) as error:
        raise _RefusedLineError(MALFORMED, f"replay `data` is not base64: {error}") from None
    schema = attributes.get(SCHEMA_NAME_ATTRIBUTE, "").rsplit("/", 1)[-1]
    named = BY_SCHEMA_ID.get(schema) if schema else None
    if schema and named is not contract:
        raise _RefusedLineError(
            WRONG_CONTRACT,
            f"its {SCHEMA_NAME_ATTRIBUTE} attribute names schema {schema!r}, "
            f"not {contract.schema_id}",
        )
    name = attributes.get(CONTRACT_ATTRIBUTE, "")
    if not schema and name and name != contract.name:
        raise _RefusedLineError(
            WRONG_CONTRACT, f"its {CONTRACT_ATTRIBUTE} attribute names {name}, not {contract.name}"
        )
    # As the pipeline routes it: Pub/Sub's attributes when the topic has a schema.
    named_encoding = SCHEMA_ENCODING_ATTRIBUTE if schema else ENCODING_ATTRIBUTE
    encoding = attributes.get(named_encoding, "BINARY").upper()
    if encoding not in ENCODINGS:
        raise _RefusedLineError(MALFORMED, f"encoding {encoding!r} is neither BINARY nor JSON")
    try:
        return decode(data, contract, encoding)
    except DecodeError as error:
        raise _RefusedLineError(MALFORMED, str(error)) from None
