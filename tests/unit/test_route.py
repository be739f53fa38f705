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
    # Without ecom_revision or a Pub/Sub schema revision: the revision this pipeline was built from.
    ({"ecom_contract": ORDER}, "", (ORDER, "BINARY", "r1")),
    ({"ecom_contract": ORDER, "ecom_encoding": "json"}, "", (ORDER, "JSON", "r1")),
    ({}, INVENTORY, (INVENTORY, "BINARY", "r1")),
    ({"ecom_contract": ORDER}, INVENTORY, (ORDER, "BINARY", "r1")),
    # The producer's ecom_revision is the message's revision (its form checked).
    ({"ecom_contract": ORDER, "ecom_revision": "r7"}, "", (ORDER, "BINARY", "r7")),
    ({"ecom_contract": ORDER, "ecom_revision": "v1; DROP"}, "", (ORDER, "BINARY", "r1")),
    (
        {
            "googclient_schemaname": "projects/p/schemas/user-activity-event",
            "googclient_schemaencoding": "JSON",
            "googclient_schemarevisionid": "abc123",
            "ecom_contract": ORDER,  # Pub/Sub's own attributes win
        },
        "",
        # A schema revision the tests' schema service cannot read (tests/conftest.py).
        (
            "ecom.events.v1.UserActivityEvent",
            "JSON",
            "unknown (projects/p/schemas/user-activity-event@abc123: not read)",
        ),
    ),
]


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
