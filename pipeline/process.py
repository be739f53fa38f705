"""Stages 2 to 5 for one message: route, decode, validate, model. No Beam, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf import unknown_fields

from ecom_contracts import InvalidEventError, validation_engine
from ecom_ingest_pb.deadletter.v1 import dead_letter_pb2
from pipeline.deadletter import dead_letter
from pipeline.decode import decode
from pipeline.errors import DataError, RuleViolationError
from pipeline.model import FactRow, model, model_if_valid
from pipeline.record import PubsubRecord
from pipeline.revisions import RevisionResolver
from pipeline.route import Route, route
from pipeline.validate import collect_violations


@dataclass
class Outcome:
    """Where one message ended: its fact rows, or exactly one dead-letter record."""

    contract: str
    """Full name of the contract, or empty when the message maps to none."""
    rows: list[FactRow] = field(default_factory=list)
    dead_letter: dead_letter_pb2.DeadLetter | None = None
    unknown_fields: int = 0
    """Fields a newer contract revision added, kept but not modeled."""
    event_seconds: float | None = None
    """Event time of the message (seconds since the epoch), when it decoded."""
    revision: str = ""
    """Registry revision the message carries (see ``pipeline.route.Route``)."""
    published_as: str = ""
    """Revision the producer was built against, from its ``ecom_revision`` attribute."""
    revision_lookup_failed: bool = False
    """Its Pub/Sub schema revision could not be read, so its revision is ``unknown``."""


def process(
    record: PubsubRecord, default_contract: str = "", resolver: RevisionResolver | None = None
) -> Outcome:
    """Run one message through route, decode, validate and model.

    ``resolver`` names Pub/Sub schema revisions (default: the process's).
    Only data errors become dead letters; any other exception is a bug and propagates.
    """
    routed: Route | None = None
    try:
        routed = route(record, default_contract, resolver)
        event = decode(record.data, routed)
        unknown = len(unknown_fields.UnknownFieldSet(event))
        # Stages 4 and 5 in one reading while the rules run as generated code (the default).
        name = routed.contract.name
        rows = model_if_valid(event, name) if validation_engine() == "generated" else None
        if rows is None:
            violations = collect_violations(event)
            if violations:
                raise RuleViolationError(InvalidEventError(violations))
            rows = model(event)
        event_time = event.event_timestamp  # type: ignore[attr-defined]
        return Outcome(
            name,
            rows,
            None,
            unknown,
            event_time.seconds + event_time.nanos / 1e9,
            routed.revision,
            routed.published_as,
            routed.revision_lookup_failed,
        )
    except DataError as error:
        return Outcome(
            contract=routed.contract.name if routed else "",
            dead_letter=dead_letter(record, error, routed),
            revision_lookup_failed=routed.revision_lookup_failed if routed else False,
        )
