"""A message's registry revision, named at run time from what it carries (``pipeline.revisions``).

The schema service is ``tests/schema_service.py``, a fake at the client's
boundary: Google's Pub/Sub emulator does not support PROTOCOL_BUFFER schemas,
so no emulator can serve the contracts' schema revisions. The reads go
through the real ``ecom_contracts.PubsubSchemaDefinitions`` with that fake as
its client.
"""

from __future__ import annotations

import re
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from google.api_core import exceptions
from google.auth import exceptions as auth_exceptions
from google.protobuf import text_format
from google.pubsub_v1 import types as pubsub

import ecom_contracts
from ecom_contracts_pb.events.v1 import inventory_event_pb2
from ecom_contracts_pb.registry_revisions import PUBSUB_DEFINITIONS
from pipeline import revisions
from pipeline.process import process
from pipeline.record import PubsubRecord
from pipeline.revisions import RevisionResolver
from pipeline.route import route
from pipeline.transforms import ProcessMessages
from tests.schema_service import FakeSchemaService

INVENTORY = "ecom.events.v1.InventoryEvent"
SCHEMA = "projects/shop-staging/schemas/inventory-event"
R1 = PUBSUB_DEFINITIONS[INVENTORY]["r1"]
ORDER_ID = "  optional string order_id = 7;\n"
R2 = R1.replace(
    ORDER_ID, ORDER_ID + "  // Coupon redeemed, when any.\n  optional string coupon = 8;\n"
)
DEFINITIONS = {INVENTORY: {"r1": R1, "r2": R2}}
"""As a package built after a second release would carry them."""
OTHER_SCHEMA = "projects/shop-production/schemas/inventory-event"
"""The same schema in another project: its revision ids are its own."""


def _event(event_id: str = "e-1") -> inventory_event_pb2.InventoryEvent:
    event = text_format.Parse(
        'event_id: "e" product_id: "p-1" warehouse_id: "wh-1" quantity_change: 5 '
        "reason: INVENTORY_REASON_RESTOCK event_timestamp { seconds: 1764583200 }",
        inventory_event_pb2.InventoryEvent(),
    )
    event.event_id = event_id
    return event


def _service(*definitions: str, schema: str = SCHEMA) -> tuple[FakeSchemaService, list[str]]:
    """A schema service holding ``schema`` with one revision per definition; their ids."""
    service = FakeSchemaService()
    parent, schema_id = schema.split("/schemas/")
    first, *later = definitions
    service.create_schema(
        pubsub.CreateSchemaRequest(
            parent=parent,
            schema_id=schema_id,
            schema=pubsub.Schema(type_=pubsub.Schema.Type.PROTOCOL_BUFFER, definition=first),
        )
    )
    for definition in later:
        service.commit_schema(
            pubsub.CommitSchemaRequest(name=schema, schema=pubsub.Schema(definition=definition))
        )
    return service, [r.revision_id for r in service.schemas[schema]]


def _resolver(service: FakeSchemaService, **options: Any) -> RevisionResolver:
    return RevisionResolver(
        ecom_contracts.PubsubSchemaDefinitions(service), definitions=DEFINITIONS, **options
    )


def _record(revision_id: str, event_id: str = "e-1", schema: str = SCHEMA, **extra: str):
    attributes = {
        "googclient_schemaname": schema,
        "googclient_schemaencoding": "BINARY",
        "googclient_schemarevisionid": revision_id,
        **extra,
    }
    return PubsubRecord(_event(event_id).SerializeToString(), attributes, event_id)


def test_the_publishers_ecom_revision_wins_and_nothing_is_read():
    service, (first,) = _service(R1)
    routed = route(_record(first, ecom_revision="r2"), resolver=_resolver(service))
    assert (routed.revision, routed.published_as) == ("r2", "r2")
    assert service.reads == []


def test_the_schema_revisions_definition_names_its_registry_revision():
    service, (first, second) = _service(R1, R2)
    resolver = _resolver(service)
    assert route(_record(first), resolver=resolver).revision == "r1"
    assert route(_record(second), resolver=resolver).revision == "r2"
    assert service.reads == [f"{SCHEMA}@{first}", f"{SCHEMA}@{second}"]


def test_comments_and_layout_of_the_definition_do_not_matter():
    bare = "\n".join(line.strip() for line in R2.splitlines() if not line.strip().startswith("//"))
    service, (only,) = _service(re.sub(r" +", "\t", bare))
    routed = route(_record(only), resolver=_resolver(service))
    assert (routed.revision, routed.revision_lookup_failed) == ("r2", False)


def test_a_definition_no_release_has_is_an_unknown_revision_not_a_failure():
    newer = R2.replace("  optional string coupon = 8;\n", "  optional string coupon = 8;\n"
                       "  optional string batch = 9;\n")  # fmt: skip
    service, (only,) = _service(newer)
    outcome = process(_record(only), resolver=_resolver(service))
    assert outcome.dead_letter is None
    assert outcome.rows
    assert outcome.revision == f"unknown ({SCHEMA}@{only}: no released definition)"
    assert not outcome.revision_lookup_failed


@pytest.mark.parametrize("failure", ["denied", "deleted", "unreachable"])
def test_a_revision_that_cannot_be_read_is_unknown_and_the_message_still_lands(failure: str):
    service, (only,) = _service(R1)
    revision_id = only
    if failure == "denied":
        service.denied.add(SCHEMA)
    elif failure == "deleted":
        revision_id = "0badc0de"
    else:
        service.unreachable = True
    resolver = _resolver(service)
    landed = process(_record(revision_id), resolver=resolver)
    assert landed.dead_letter is None
    assert landed.rows
    assert landed.revision == f"unknown ({SCHEMA}@{revision_id}: not read)"
    assert landed.revision_lookup_failed

    broken = _record(revision_id, "e-2")
    invalid = inventory_event_pb2.InventoryEvent.FromString(broken.data)
    invalid.quantity_change = -5  # a restock that removes stock
    refused = process(
        PubsubRecord(invalid.SerializeToString(), broken.attributes, "e-2"), resolver=resolver
    )
    assert refused.dead_letter is not None
    assert refused.dead_letter.contract_revision == landed.revision
    assert refused.revision_lookup_failed  # counted on the dead-letter path too


def test_failed_reads_and_unknown_revisions_are_counted(monkeypatch: pytest.MonkeyPatch):
    service, (first, second) = _service(R1, R2)
    service.denied.add(SCHEMA)
    monkeypatch.setattr(revisions, "RESOLVER", _resolver(service))
    pipeline = TestPipeline()
    records = [_record(first, "e-1"), _record(second, "e-2"), _record(first, "e-3")]
    _ = (pipeline | beam.Create(records) | ProcessMessages()).rows
    result = pipeline.run()
    result.wait_until_finish()
    counters = {
        c.key.metric.name: c.committed
        for c in result.metrics().query(MetricsFilter().with_namespace("ecom"))["counters"]
    }
    assert counters["InventoryEvent.ok"] == 3
    assert counters["InventoryEvent.decoded_as.unknown"] == 3
    assert counters["InventoryEvent.revision_lookup_failed"] == 3
    assert len(service.reads) == 2  # one read per revision, not per message


def test_one_read_per_schema_revision_per_process():
    service, (first, second) = _service(R1, R2)
    other, (theirs,) = _service(R2, schema=OTHER_SCHEMA)
    service.schemas.update(other.schemas)
    resolver = _resolver(service)
    for number in range(50):
        for revision_id, schema in ((first, SCHEMA), (second, SCHEMA), (theirs, OTHER_SCHEMA)):
            process(_record(revision_id, f"e-{number}", schema), resolver=resolver)
    assert service.reads == [
        f"{SCHEMA}@{first}",
        f"{SCHEMA}@{second}",
        f"{OTHER_SCHEMA}@{theirs}",
    ]
    assert resolver.lookups == 3


def test_a_failed_read_is_tried_again_later_and_reads_are_bounded():
    service, (first, second) = _service(R1, R2)
    service.unreachable = True
    now = [0.0]
    resolver = _resolver(service, clock=lambda: now[0], first_retry=60.0, max_lookups=4)
    name = f"{SCHEMA}@{first}"

    def resolved() -> tuple[str, bool]:
        named = resolver.resolve(INVENTORY, name)
        return named.revision, named.lookup_failed

    assert resolved() == (f"unknown ({name}: not read)", True)
    now[0] = 59.0
    assert resolved()[1]
    assert service.reads == [name]  # not read again before the delay
    now[0] = 61.0
    assert resolved()[1]
    assert service.reads == [name, name]
    now[0] = 61.0 + 119.0  # the delay doubled: 120 s
    assert resolved()[1]
    assert len(service.reads) == 2

    service.unreachable = False
    now[0] = 61.0 + 121.0
    assert resolved() == ("r1", False)
    assert len(service.reads) == 3
    now[0] = 10_000.0
    assert resolved() == ("r1", False)  # named for good
    assert len(service.reads) == 3

    service.denied.add(SCHEMA)
    assert resolver.resolve(INVENTORY, f"{SCHEMA}@{second}").lookup_failed  # the 4th read
    spent = resolver.resolve(INVENTORY, f"{SCHEMA}@0badc0de")
    assert (spent.revision, spent.lookup_failed) == (f"unknown ({SCHEMA}@0badc0de: not read)", True)
    assert len(service.reads) == 4  # the bound: no 5th read


class RecordingClient:
    """A schema client that keeps every call's arguments and answers with one definition."""

    def __init__(self, answer: Exception | None = None) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    def get_schema(self, **arguments: Any) -> pubsub.Schema:
        self.calls.append(arguments)
        if self.answer is not None:
            raise self.answer
        return pubsub.Schema(definition=R1)


def test_pubsub_reads_are_one_attempt_of_the_full_view_and_fail_as_lookup_errors():
    client = RecordingClient()
    schemas = ecom_contracts.PubsubSchemaDefinitions(client, timeout=3.0)
    assert schemas.definition(f"{SCHEMA}@abc") == R1
    (call,) = client.calls
    assert call["request"] == pubsub.GetSchemaRequest(
        name=f"{SCHEMA}@abc", view=pubsub.SchemaView.FULL
    )
    assert (call["retry"], call["timeout"]) == (None, 3.0)
    for failure in (
        exceptions.PermissionDenied("denied"),
        exceptions.NotFound("gone"),
        exceptions.DeadlineExceeded("slow"),
        auth_exceptions.DefaultCredentialsError("no credentials"),
    ):
        failing = ecom_contracts.PubsubSchemaDefinitions(RecordingClient(failure))
        with pytest.raises(ecom_contracts.SchemaLookupError, match=type(failure).__name__):
            failing.definition(f"{SCHEMA}@abc")


def test_a_revision_is_named_by_its_text_first_then_by_the_oldest_of_the_same_meaning():
    comment_only = R1.replace("// The stock of one product", "// The stock, per product,")
    known = {INVENTORY: {"r1": R1, "r2": comment_only, "r3": R2}}
    assert ecom_contracts.registry_revision_of(INVENTORY, comment_only, known) == "r2"
    assert ecom_contracts.registry_revision_of(INVENTORY, R1, known) == "r1"
    relaid = "\n".join(line.strip() for line in comment_only.splitlines())
    assert ecom_contracts.registry_revision_of(INVENTORY, relaid, known) == "r1"
    assert ecom_contracts.registry_revision_of(INVENTORY, R2 + "// end\n", known) == "r3"
    assert ecom_contracts.registry_revision_of(INVENTORY, "syntax = 'proto3';", known) == ""
    assert ecom_contracts.registry_revision_of("ecom.events.v1.RefundEvent", R1, known) == ""
    # Oldest by number, not by spelling: r9 before r10.
    twice = {INVENTORY: {"r10": R1, "r9": R1, "r9+dev": R1}}
    assert ecom_contracts.registry_revision_of(INVENTORY, relaid, twice) == "r9"
    # The package's own definitions by default.
    assert ecom_contracts.registry_revision_of(INVENTORY, R1) == "r1"


def test_meaning_is_the_tokens_without_comments_and_layout():
    same = ecom_contracts.same_meaning
    assert same("message A {\n  string id = 1; // the id\n}", "message A{string id=1;}")
    assert same("/* block */ message A {}", "message  A  {}")
    assert not same("message A { string id = 1; }", "message A { string id = 2; }")
    assert not same('option x = "a // b";', 'option x = "a";')  # a string is not a comment
    assert ecom_contracts.definition_tokens('a = "b // c"; // d') == ["a", "=", '"b // c"', ";"]
