"""Routing a message to its contract: Pub/Sub schema attributes, then ours, then the default."""

from __future__ import annotations

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
