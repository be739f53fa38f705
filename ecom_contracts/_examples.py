"""Sample events of each contract, valid against its rules: what ``ecom-contracts example`` prints.

A producer starting out sees what a good event looks like, field by field, in
the JSON its tools write, and has a file ``validate`` accepts to start its own
tests from. The samples are proto3 JSON (the contract's field names), each a
different case of the contract (a placed order, a delivery; a restock, a
sale); a unit test holds every contract of the catalogue to having samples
that pass its rules, so a contract change that breaks them is caught here.
"""

from __future__ import annotations

from typing import Any, Final

from google.protobuf import json_format
from google.protobuf.message import Message

from ecom_contracts._catalog import Contract

_WHEN: Final = "2025-12-01T10:00:00Z"

_PLACED_ORDER: Final[dict[str, Any]] = {
    "eventId": "evt-0001",
    "status": "ORDER_STATUS_PLACED",
    "eventTimestamp": _WHEN,
    "orderId": "ord-0001",
    "customer": {"customerId": "cus-1", "name": "Ada Lovelace", "email": "ada@example.com"},
    "currency": "EUR",
    "items": [
        {
            "productId": "p-1",
            "productName": "Mug",
            "quantity": 2,
            "unitPrice": {"units": "12", "nanos": 500000000},
        },
        {
            "productId": "p-2",
            "productName": "Tea",
            "quantity": 1,
            "unitPrice": {"units": "4"},
        },
    ],
    "shippingAddress": {
        "street": "1 Main St",
        "city": "Berlin",
        "postalCode": "10115",
        "country": "DE",
    },
    "paymentMethod": "PAYMENT_METHOD_CARD",
}

SAMPLES: Final[dict[str, tuple[dict[str, Any], ...]]] = {
    "ecom.events.v1.OrderEvent": (
        _PLACED_ORDER,
        {
            **_PLACED_ORDER,
            "eventId": "evt-0002",
            "status": "ORDER_STATUS_DELIVERED",
            "eventTimestamp": "2025-12-03T15:30:00+01:00",
        },
    ),
    "ecom.events.v1.InventoryEvent": (
        {
            "eventId": "inv-0001",
            "eventTimestamp": _WHEN,
            "productId": "p-1",
            "warehouseId": "wh-1",
            "quantityChange": 100,
            "reason": "INVENTORY_REASON_RESTOCK",
        },
        {
            "eventId": "inv-0002",
            "eventTimestamp": _WHEN,
            "productId": "p-1",
            "warehouseId": "wh-1",
            "quantityChange": -2,
            "reason": "INVENTORY_REASON_SALE",
            "orderId": "ord-0001",
        },
    ),
    "ecom.events.v1.UserActivityEvent": (
        {
            "eventId": "ua-0001",
            "eventTimestamp": _WHEN,
            "userId": "u-1",
            "sessionId": "s-1",
            "activityType": "ACTIVITY_TYPE_SEARCH",
            "page": "/search",
            "searchQuery": "blue mug",
            "userAgent": "Mozilla/5.0",
        },
        {
            "eventId": "ua-0002",
            "eventTimestamp": _WHEN,
            "userId": "u-1",
            "sessionId": "s-1",
            "activityType": "ACTIVITY_TYPE_ADD_TO_CART",
            "page": "/products/p-1",
            "productId": "p-1",
            "userAgent": "Mozilla/5.0",
            "referrer": "https://search.example/",
        },
    ),
}
"""Per contract (full name): sample events in proto3 JSON, each valid against the rules."""


def examples(contract: Contract) -> list[Message]:
    """Return the sample events of ``contract``; empty for a contract without samples."""
    return [
        json_format.ParseDict(sample, contract.message())
        for sample in SAMPLES.get(contract.name, ())
    ]
