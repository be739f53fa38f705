"""Data errors: a message the pipeline cannot turn into rows. Each becomes one dead-letter record.

DataError
├── UnknownEventError      the message maps to no known contract            (stage route)
├── MalformedPayloadError  the payload does not parse as its contract       (stage decode)
├── RuleViolationError     the event breaks its contract's rules            (stage validate)
├── ModelingError          the valid event cannot become warehouse rows     (stage model)
├── SinkRejectedError      the warehouse refused a row                      (stage write)
└── SinkUnavailableError   the warehouse could not be written, past retries (stage write)

Anything that is not a DataError is a programming error and fails the bundle.
Errors of other packages are wrapped, never inherited: a data error raised
because the producers' package refused a payload or an event
(``ecom_contracts.DecodeError``, ``ecom_contracts.InvalidEventError``) or
because the warehouse run time cannot hold a value
(``ecom_warehouse_runtime.fact_rows.UnrepresentableValueError``) has that
error as its ``__cause__`` and the same text.
"""

from __future__ import annotations

from typing import Any, ClassVar

import ecom_contracts
from ecom_ingest_pb.deadletter.v1 import dead_letter_pb2


class DataError(Exception):
    """A message the pipeline cannot turn into rows; carries its stage and reason."""

    stage: ClassVar[int] = dead_letter_pb2.STAGE_UNSPECIFIED
    reason: ClassVar[int] = dead_letter_pb2.REASON_UNSPECIFIED


class UnknownEventError(DataError):
    """The message maps to no known contract."""

    stage = dead_letter_pb2.STAGE_ROUTE
    reason = dead_letter_pb2.REASON_UNKNOWN_EVENT


class MalformedPayloadError(DataError):
    """The payload does not parse as its contract in the encoding its attributes name."""

    stage = dead_letter_pb2.STAGE_DECODE
    reason = dead_letter_pb2.REASON_DECODE_ERROR

    def __init__(self, cause: ecom_contracts.DecodeError) -> None:
        super().__init__(str(cause))
        self.__cause__ = cause


class RuleViolationError(DataError):
    """The event breaks one or more of its contract's validation rules; ``violations`` says which.

    Wraps the producers' refusal (``ecom_contracts.InvalidEventError``): its
    text and its violations, which the dead letter records.
    """

    stage = dead_letter_pb2.STAGE_VALIDATE
    reason = dead_letter_pb2.REASON_INVALID

    def __init__(self, cause: ecom_contracts.InvalidEventError) -> None:
        super().__init__(str(cause))
        self.__cause__ = cause
        self.violations = cause.violations


class ModelingError(DataError):
    """The event is valid but cannot become warehouse rows (for example a NUMERIC overflow)."""

    stage = dead_letter_pb2.STAGE_MODEL
    reason = dead_letter_pb2.REASON_MODELING_ERROR


class SinkRejectedError(DataError):
    """The warehouse refused a row."""

    stage = dead_letter_pb2.STAGE_WRITE
    reason = dead_letter_pb2.REASON_SINK_REJECTED


class SinkUnavailableError(DataError):
    """The warehouse could not be written: a missing table, a permission denied, or an outage.

    Raised by a sink once its bounded retries are spent, so a streaming job
    dead-letters the messages (to be replayed after the fix) instead of
    retrying the bundle forever with its watermark held back.
    """

    stage = dead_letter_pb2.STAGE_WRITE
    reason = dead_letter_pb2.REASON_SINK_UNAVAILABLE

    def __init__(
        self, detail: str, unwritten: list[int] | None = None, refused: list[Any] | None = None
    ) -> None:
        super().__init__(detail)
        self.unwritten = unwritten
        """Positions in the batch of the rows that were not written (None: all of them)."""
        self.refused = refused or []
        """Rows the warehouse did answer for, refusing them, before it became unavailable."""
