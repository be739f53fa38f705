"""Stage 7, dead-letter: the one record type every failed message becomes."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any, Final, NamedTuple

from google.protobuf import json_format

from ecom_ingest_pb.deadletter.v1 import dead_letter_pb2
from pipeline.errors import DataError, RuleViolationError
from pipeline.record import PubsubRecord
from pipeline.route import Route

PIPELINE_VERSION: Final = "0.1.0"
MAX_DETAIL: Final = 1000
"""Longest ``detail`` kept: enough to act on, never a dump of the payload."""
REASON_NAMES: Final = {
    value.number: value.name.removeprefix("REASON_").lower()
    for value in dead_letter_pb2.Reason.DESCRIPTOR.values
}
"""Reason labels used in counters and summaries: ``unknown_event``, ``decode_error``, ..."""


def dead_letter(
    record: PubsubRecord,
    error: DataError,
    route: Route | None = None,
    *,
    failed_at: dt.datetime | None = None,
) -> dead_letter_pb2.DeadLetter:
    """Return the dead-letter record of ``record``, which failed with ``error``.

    It keeps the original payload and attributes byte for byte (so it can be
    replayed) and adds only what the pipeline knows about the failure: nothing
    the payload did not already hold, and no stack trace.
    """
    letter = dead_letter_pb2.DeadLetter(
        data=record.data,
        attributes=record.attributes,
        message_id=record.message_id,
        stage=error.stage,  # type: ignore[arg-type]
        reason=error.reason,  # type: ignore[arg-type]
        detail=_bounded(str(error)),
        pipeline_version=PIPELINE_VERSION,
    )
    if record.publish_time:
        set_rfc3339(letter.publish_time, record.publish_time)
    if isinstance(error, RuleViolationError):
        for violation in error.violations:
            letter.violations.add(
                field_path=violation.field_path,
                rule_id=violation.rule_id,
                message=violation.message,
            )
    if route is not None:
        letter.contract_name = route.contract.name
        letter.contract_revision = route.revision
    letter.failed_at.FromDatetime(failed_at or dt.datetime.now(dt.UTC))
    return letter


_UTC_SECOND: Final = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z\Z")
_EPOCH: Final = dt.datetime(1970, 1, 1)


def set_rfc3339(timestamp: Any, text: str) -> None:
    """Set a ``Timestamp`` from RFC 3339 ``text`` exactly as its ``FromJsonString`` does.

    Pub/Sub's form (UTC, ``Z``, up to nine fractional digits) is read here, in a
    tenth of the time; any other text, and any error, is ``FromJsonString``'s.
    Raises ValueError as it does.
    """
    match = _UTC_SECOND.match(text)
    if match is None:
        timestamp.FromJsonString(text)
        return
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        moment = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        timestamp.FromJsonString(text)  # its own words for the error
        return
    elapsed = moment - _EPOCH
    timestamp.seconds = elapsed.seconds + elapsed.days * 86_400
    timestamp.nanos = round(float("0." + fraction) * 1e9) if fraction else 0


def _bounded(detail: str) -> str:
    if len(detail) <= MAX_DETAIL:
        return detail
    return detail[: MAX_DETAIL - 12] + " [truncated]"


def to_json_line(letter: dead_letter_pb2.DeadLetter) -> str:
    """Return the record as one line of newline-delimited JSON (proto3 JSON mapping)."""
    return json_format.MessageToJson(letter, indent=None, sort_keys=True)


def delivery_key(record: PubsubRecord) -> str:
    """Return what identifies one delivered message: its id, else a hash of its content.

    Pub/Sub redelivers a message with the same id, so dead letters keyed by it
    collapse to one record per message.
    """
    if record.message_id:
        return record.message_id
    digest = hashlib.sha256(record.data)
    for name, value in sorted(record.attributes.items()):
        digest.update(f"\0{name}\0{value}".encode())
    return f"sha256:{digest.hexdigest()}"


class DeadLetterLine(NamedTuple):
    """A dead-letter record on its way to a file."""

    line: str
    """The record as one line of JSON."""
    family: str
    """Event family the file groups it under: the contract's short name, or ``unknown``."""


DeadLetterElement = tuple[str, DeadLetterLine]
"""What the pipeline carries for a dead letter: (delivery key, the line and its file)."""


def keyed_line(record: PubsubRecord, letter: dead_letter_pb2.DeadLetter) -> DeadLetterElement:
    """Return the dead-letter element of ``record``."""
    family = letter.contract_name.rsplit(".", 1)[-1] or "unknown"
    return delivery_key(record), DeadLetterLine(to_json_line(letter), family)
