"""Decoding: BINARY through upb, JSON strictly in the Pub/Sub schema's shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import json_format, unknown_fields

from ecom_contracts_pb.events.v1 import inventory_event_pb2
from ecom_contracts_pb.pubsub.v1 import inventory_event_pb2 as pubsub_inventory
from pipeline.catalog import BY_NAME
from pipeline.decode import decode
from pipeline.errors import MalformedPayloadError
from pipeline.route import Route

CONTRACT = BY_NAME["ecom.events.v1.InventoryEvent"]
BINARY = Route(CONTRACT, "BINARY")
JSON = Route(CONTRACT, "JSON")


def _event() -> inventory_event_pb2.InventoryEvent:
    event = inventory_event_pb2.InventoryEvent(
        event_id="e1",
        product_id="p",
        warehouse_id="w",
        quantity_change=-2,
        reason=inventory_event_pb2.INVENTORY_REASON_SALE,
        order_id="o1",
    )
    event.event_timestamp.FromJsonString("2025-12-01T10:00:00.5Z")
    return event


def _schema_json(event: inventory_event_pb2.InventoryEvent) -> dict[str, Any]:
    shaped = pubsub_inventory.InventoryEvent.FromString(event.SerializeToString())
    parsed: dict[str, Any] = json.loads(json_format.MessageToJson(shaped))
    return parsed


def test_binary_round_trip():
    assert decode(_event().SerializeToString(), BINARY) == _event()


def test_json_in_the_schema_shape():
    payload = _schema_json(_event())
    assert payload["eventTimestamp"] == {"seconds": "1764583200", "nanos": 500000000}
    assert decode(json.dumps(payload).encode(), JSON) == _event()


def test_binary_keeps_fields_of_a_newer_revision_as_unknown():
    newer = _event().SerializeToString() + b"\xa0\x06\x01"  # field 100, varint 1
    decoded = decode(newer, BINARY)
    assert len(unknown_fields.UnknownFieldSet(decoded)) == 1
    assert decoded.event_id == "e1"  # type: ignore[attr-defined]


BAD_JSON = {
    "unknown field": lambda p: json.dumps({**p, "coupon": "X"}).encode(),
    "wrong type": lambda p: json.dumps({**p, "quantityChange": "lots"}).encode(),
    "truncated": lambda p: json.dumps(p).encode()[:30],
    "rfc3339 timestamp": lambda p: json.dumps(
        {**p, "eventTimestamp": "2025-12-01T10:00:00Z"}
    ).encode(),
    "not utf-8": lambda p: b"\xff" + json.dumps(p).encode(),
    "not an object": lambda p: b"[1, 2]",
    "deeply nested": lambda p: b'{"eventTimestamp": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "unknown enum name": lambda p: json.dumps({**p, "reason": "THEFT"}).encode(),
}


@pytest.mark.parametrize("case", sorted(BAD_JSON))
def test_strict_json(case: str):
    with pytest.raises(MalformedPayloadError):
        decode(BAD_JSON[case](_schema_json(_event())), JSON)


@pytest.mark.parametrize("payload", [b"\xff\xff\xff", b"\x0a\x05ab", b"\x08"])
def test_malformed_binary(payload: bytes):
    with pytest.raises(
        MalformedPayloadError, match=r"not a binary ecom\.events\.v1\.InventoryEvent"
    ):
        decode(payload, BINARY)


def test_json_drops_only_the_fields_a_released_revision_had(monkeypatch: pytest.MonkeyPatch):
    """Keys of removed fields (ecom_contracts_pb.registry_revisions.REMOVED_FIELDS, by make proto)
    are dropped, also inside repeated messages; any other unknown key is still an error."""
    from ecom_contracts_pb import registry_revisions
    from ecom_contracts_pb.events.v1 import order_event_pb2

    removed = [[["items"], ["sku"]], [["giftNote", "gift_note"]]]
    monkeypatch.setitem(registry_revisions.REMOVED_FIELDS, "ecom.events.v1.OrderEvent", removed)
    route = Route(BY_NAME["ecom.events.v1.OrderEvent"], "JSON")
    order = order_event_pb2.OrderEvent(order_id="o1")
    order.items.add(product_id="p1", quantity=1)
    order.items.add(product_id="p2", quantity=2)
    payload = json.loads(json_format.MessageToJson(order))
    for item in payload["items"]:
        item["sku"] = "S"
    older = {**payload, "gift_note": "for you"}
    assert decode(json.dumps(older).encode(), route) == order
    with pytest.raises(MalformedPayloadError, match="coupon"):
        decode(json.dumps({**older, "coupon": "X"}).encode(), route)
    with pytest.raises(MalformedPayloadError):
        decode(json.dumps({**payload, "items": [{"sku": "S", "size": 1}]}).encode(), route)
