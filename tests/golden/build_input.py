"""Build ``input.ndjson``, the golden end-to-end input: ``python -m tests.golden.build_input``.

Every message kind the pipeline must handle: valid events of each contract
(binary and JSON-encoded, routed by the publisher's attribute, by Pub/Sub's
schema attributes and by a default contract), invalid events, malformed and
truncated payloads, unknown contracts, a modeling failure and duplicates.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import cast

from google.protobuf import json_format, text_format
from google.protobuf.message import Message

from ecom_contracts_pb.events.v1 import (
    inventory_event_pb2,
    order_event_pb2,
    user_activity_event_pb2,
)
from ecom_contracts_pb.pubsub.v1 import order_event_pb2 as pubsub_order

HERE = Path(__file__).parent
CASES = HERE.parent / "contract" / "cases"
EVENTS: dict[str, type[Message]] = {
    "order_event": order_event_pb2.OrderEvent,
    "inventory_event": inventory_event_pb2.InventoryEvent,
    "user_activity_event": user_activity_event_pb2.UserActivityEvent,
}
PUBLISH_TIME = "2025-12-01T12:00:05Z"


def _line(message_id: str, data: bytes, attributes: dict[str, str]) -> str:
    return json.dumps(
        {
            "data": base64.b64encode(data).decode(),
            "attributes": attributes,
            "messageId": message_id,
            "publishTime": PUBLISH_TIME,
        },
        sort_keys=True,
    )


def _case(family: str, name: str) -> Message:
    """Return a golden case with a unique event id (the accounting check finds rows by it)."""
    event = text_format.Parse((CASES / family / f"{name}.textproto").read_text(), EVENTS[family]())
    if event.event_id:  # type: ignore[attr-defined]
        event.event_id = f"{family}/{name}"  # type: ignore[attr-defined]
    return event


def build() -> list[str]:
    """Return the golden input lines."""
    lines = []
    for family, cls in EVENTS.items():
        contract = {"ecom_contract": cls.DESCRIPTOR.full_name}
        for path in sorted((CASES / family).glob("*.textproto")):
            event = _case(family, path.stem)
            lines.append(_line(f"{family}/{path.stem}", event.SerializeToString(), contract))

    order = cast(order_event_pb2.OrderEvent, _case("order_event", "valid_three_items"))
    order_contract = {"ecom_contract": "ecom.events.v1.OrderEvent"}
    # JSON in the Pub/Sub schema's shape (Timestamp as seconds/nanos).
    as_schema = pubsub_order.OrderEvent.FromString(order.SerializeToString())
    json_order = order_event_pb2.OrderEvent()
    json_order.CopyFrom(order)
    json_order.event_id, json_order.order_id = "evt-json", "ord-json"
    lines.append(
        _line(
            "json/valid_order",
            json_format.MessageToJson(
                pubsub_order.OrderEvent.FromString(json_order.SerializeToString()), indent=None
            ).encode(),
            {**order_contract, "ecom_encoding": "JSON"},
        )
    )
    schema_json = json.loads(json_format.MessageToJson(as_schema, indent=None))
    json_attrs = {**order_contract, "ecom_encoding": "JSON"}
    lines.append(
        _line("json/unknown_field", json.dumps({**schema_json, "coupon": "X"}).encode(), json_attrs)
    )
    lines.append(
        _line("json/wrong_type", json.dumps({**schema_json, "items": "many"}).encode(), json_attrs)
    )
    lines.append(_line("json/truncated", json.dumps(schema_json).encode()[:40], json_attrs))
    lines.append(
        _line(
            "json/rfc3339_timestamp",
            json_format.MessageToJson(order, indent=None).encode(),
            json_attrs,
        )
    )
    lines.append(_line("json/not_utf8", b"\xff\xfe{}", json_attrs))

    lines.append(_line("binary/garbage", b"\xff\xff\xff", order_contract))
    lines.append(_line("binary/truncated", order.SerializeToString()[:25], order_contract))
    lines.append(
        _line("route/unknown_contract", b"", {"ecom_contract": "ecom.events.v1.RefundEvent"})
    )
    lines.append(_line("route/no_attributes", order.SerializeToString(), {}))
    lines.append(_line("route/bad_encoding", b"", {**order_contract, "ecom_encoding": "AVRO"}))
    lines.append(
        _line(
            "route/unknown_schema",
            b"",
            {
                "googclient_schemaname": "projects/p/schemas/refund-event",
                "googclient_schemaencoding": "BINARY",
            },
        )
    )
    inventory = cast(inventory_event_pb2.InventoryEvent, _case("inventory_event", "valid_restock"))
    inventory.event_id = "inv-schema"
    lines.append(
        _line(
            "route/pubsub_schema_attributes",
            inventory.SerializeToString(),
            {
                "googclient_schemaname": "projects/p/schemas/inventory-event",
                "googclient_schemaencoding": "BINARY",
                "googclient_schemarevisionid": "rev-1",
            },
        )
    )

    huge = order_event_pb2.OrderEvent()
    huge.CopyFrom(order)
    huge.event_id, huge.order_id = "evt-huge", "ord-huge"
    del huge.items[:]
    for index in range(11):
        huge.items.add(
            product_id=f"p-{index}", product_name="Gold", quantity=2**31 - 1
        ).unit_price.units = 2**62
    lines.append(_line("model/numeric_overflow", huge.SerializeToString(), order_contract))

    delivered = order_event_pb2.OrderEvent()
    delivered.CopyFrom(order)
    delivered.event_id, delivered.status = "evt-1-delivered", order_event_pb2.ORDER_STATUS_DELIVERED
    delivered.event_timestamp.seconds += 3 * 86400
    lines.append(_line("order/delivered", delivered.SerializeToString(), order_contract))

    # Redelivery (same message id) of a valid and of an invalid message, and
    # re-publication (same event, new message id).
    lines.append(next(line for line in lines if "valid_page_view" in line))
    lines.append(next(line for line in lines if "invalid_no_items" in line))
    placed = _line("dup/republished_order", order.SerializeToString(), order_contract)
    lines.append(placed)
    return lines


if __name__ == "__main__":
    (HERE / "input.ndjson").write_text("\n".join(build()) + "\n")
