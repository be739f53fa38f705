"""Routing a message to its contract: Pub/Sub schema attributes, then ours, then the default."""

from __future__ import annotations

import json

import pytest

from pipeline.errors import UnknownEventError
from pipeline.record import PubsubRecord
from pipeline.route import route

ORDER = "ecom.events.v1.OrderEvent"
INVENTORY = "ecom.events.v1.InventoryEvent"

ROUTED = [
    # attributes, default contract, expected (contract, encoding, revision)
    # The revision is the registry revision this pipeline was built from ...
    ({"ecom_contract": ORDER}, "", (ORDER, "BINARY", "r1")),
    ({"ecom_contract": ORDER, "ecom_encoding": "json"}, "", (ORDER, "JSON", "r1")),
    ({}, INVENTORY, (INVENTORY, "BINARY", "r1")),
    ({"ecom_contract": ORDER}, INVENTORY, (ORDER, "BINARY", "r1")),
    (
        {
            "googclient_schemaname": "projects/p/schemas/user-activity-event",
            "googclient_schemaencoding": "JSON",
            "googclient_schemarevisionid": "abc123",
            "ecom_contract": ORDER,  # Pub/Sub's own attributes win
        },
        "",
        # ... naming a Pub/Sub revision the registry has not mapped yet.
        ("ecom.events.v1.UserActivityEvent", "JSON", "r1 (Pub/Sub revision abc123)"),
    ),
]


@pytest.mark.parametrize(("attributes", "default", "expected"), ROUTED)
def test_routed(attributes, default, expected):
    found = route(PubsubRecord(b"", attributes), default)
    assert (found.contract.name, found.encoding, found.revision) == expected


UNKNOWN = [
    ({}, "", "no googclient_schemaname or ecom_contract attribute"),
    ({"ecom_contract": "ecom.events.v1.RefundEvent"}, "", "not a known contract"),
    ({}, "ecom.events.v1.RefundEvent", "not a known contract"),
    ({"googclient_schemaname": "projects/p/schemas/refund"}, ORDER, "maps to no known contract"),
    ({"ecom_contract": ORDER, "ecom_encoding": "AVRO"}, "", "neither BINARY nor JSON"),
]


@pytest.mark.parametrize(("attributes", "default", "message"), UNKNOWN)
def test_unknown(attributes, default, message):
    with pytest.raises(UnknownEventError, match=message):
        route(PubsubRecord(b"", attributes), default)


def test_mapped_pubsub_revision_reports_its_registry_revision(monkeypatch: pytest.MonkeyPatch):
    from ecom import registry_revisions

    monkeypatch.setitem(registry_revisions.PUBSUB_REVISIONS, "order-event", {"abc123": "r7"})
    attributes = {"googclient_schemaname": "projects/p/schemas/order-event",
                  "googclient_schemarevisionid": "abc123"}  # fmt: skip
    assert route(PubsubRecord(b"", attributes)).revision == "r7"


def test_the_subscriptions_contract_travels_beside_the_attributes_not_in_them():
    from apache_beam.io.gcp.pubsub import PubsubMessage

    from pipeline.deadletter import to_json_line
    from pipeline.process import process
    from pipeline.sources import to_record

    attributes = {"source": "checkout", "trace": "a\u00e9\u2603"}  # no contract attribute
    good = process(to_record(PubsubMessage(b"", dict(attributes), "m1"), INVENTORY))
    assert good.contract == INVENTORY  # routed by the subscription's contract
    record = to_record(PubsubMessage(b"\xff\x00not-an-event", dict(attributes), "m2"), INVENTORY)
    assert record.attributes == attributes
    outcome = process(record)
    assert outcome.dead_letter is not None
    letter = json.loads(to_json_line(outcome.dead_letter))
    assert letter["attributes"] == attributes  # byte for byte: nothing added
    assert json.loads(record.to_json())["attributes"] == attributes
    replayed = PubsubRecord.from_json(letter_line := to_json_line(outcome.dead_letter))
    assert replayed.attributes == attributes
    assert "default_contract" not in letter_line
