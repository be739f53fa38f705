"""Synthetic e-commerce traffic from the contracts: realistic, seeded, reproducible.

Customers browse in sessions (page views, searches, product views, cart
changes, checkout, purchase, login/logout); some sessions place orders of 1 to
5 lines that then move through their statuses (paid, shipped, delivered, or
cancelled or returned); stock moves with sales, returns, restocks, damage and
adjustments. Roughly 60% user activity, 25% order events and 15% inventory
events. A configurable share of bad traffic is mixed in: malformed bytes,
invalid values, unknown event types, and duplicate deliveries; a share of the
good events is JSON-encoded.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from google.protobuf.message import Message

from ecom_contracts_pb.events.v1 import (
    inventory_event_pb2,
    order_event_pb2,
    user_activity_event_pb2,
)

BASE_TIME: Final = 1764547200  # 2025-12-01T00:00:00Z
COUNTRIES: Final = {
    "DE": ("EUR", ["Berlin", "Hamburg", "Munich"]),
    "FR": ("EUR", ["Paris", "Lyon"]),
    "NL": ("EUR", ["Amsterdam", "Utrecht"]),
    "US": ("USD", ["Austin", "Boston", "Denver"]),
    "GB": ("GBP", ["London", "Leeds"]),
    "SE": ("SEK", ["Stockholm"]),
    "JP": ("JPY", ["Tokyo", "Osaka"]),
}
FIRST: Final = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia"]
LAST: Final = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Perlman"]
PRODUCTS: Final = [
    "Mug", "Teapot", "Kettle", "Espresso cup", "Tea towel", "Grinder", "Scale", "Filter",
    "Tumbler", "Carafe", "Saucer", "Spoon set", "Milk jug", "Canister", "Tray", "Coaster",
]  # fmt: skip
AGENTS: Final = [
    "Mozilla/5.0 (X11; Linux x86_64)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
]
SEARCHES: Final = ["mug", "blue teapot", "gift", "espresso", "sale", "kettle 1.5l"]
WAREHOUSES: Final = ["wh-berlin", "wh-reno", "wh-osaka"]


@dataclass(frozen=True)
class TrafficMessage:
    """One message to publish: its payload, attributes and what it is meant to be."""

    data: bytes
    attributes: dict[str, str]
    kind: str
    """``order``, ``inventory``, ``user_activity``, or a bad kind (``malformed``, ...)."""
    event: Message | None = None
    """The event, for good traffic (what the warehouse must end up holding)."""
    duplicate_of: int | None = None
    """Index of the message this one re-delivers, for duplicates."""


@dataclass
class _Customer:
    customer_id: str
    name: str
    email: str
    country: str
    city: str
    street: str
    postal_code: str


@dataclass
class _Order:
    event: order_event_pb2.OrderEvent
    next_statuses: list[int] = field(default_factory=list)


class TrafficGenerator:
    """A seeded generator of e-commerce events; the same seed gives the same traffic."""

    def __init__(
        self, seed: int = 7, bad_share: float = 0.05, json_share: float = 0.05, customers: int = 200
    ) -> None:
        self.random = random.Random(seed)
        self.bad_share = bad_share
        self.json_share = json_share
        self.clock = float(BASE_TIME)
        self.products = [
            (f"p-{index:03d}", f"{name} {index}", self.random.choice([0, 1, 2, 5, 9, 15, 29, 49]),
             self.random.choice([0, 490_000_000, 990_000_000, 500_000_000]))
            for index, name in enumerate(PRODUCTS * 6)
        ]  # fmt: skip
        self.customers = [self._customer(index) for index in range(customers)]
        self.open_orders: list[_Order] = []
        self.sessions: dict[str, tuple[str, int]] = {}

    # -- building blocks ---------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        return f"{prefix}-{uuid.UUID(int=self.random.getrandbits(128), version=4).hex[:20]}"

    def _customer(self, index: int) -> _Customer:
        country = self.random.choice(list(COUNTRIES))
        first, last = self.random.choice(FIRST), self.random.choice(LAST)
        return _Customer(
            customer_id=f"cus-{index:05d}",
            name=f"{first} {last}",
            email=f"{first}.{last}.{index}@example.com".lower(),
            country=country,
            city=self.random.choice(COUNTRIES[country][1]),
            street=f"{self.random.randint(1, 200)} Market Street",
            postal_code=f"{self.random.randint(10000, 99999)}",
        )

    def _tick(self) -> tuple[int, int]:
        self.clock += self.random.expovariate(1 / 2.0)  # about one event every 2 seconds
        seconds = int(self.clock)
        return seconds, int((self.clock - seconds) * 1e9) // 1000 * 1000

    # -- event families ----------------------------------------------------------------
    def _activity(self) -> user_activity_event_pb2.UserActivityEvent:
        customer = self.random.choice(self.customers)
        session, steps = self.sessions.get(customer.customer_id, (self._id("ses"), 0))
        if steps > self.random.randint(4, 15):
            session, steps = self._id("ses"), 0
        self.sessions[customer.customer_id] = (session, steps + 1)
        kind = self.random.choices(
            population=list(range(1, 10)), weights=[30, 25, 12, 10, 3, 4, 3, 8, 5]
        )[0]
        event = user_activity_event_pb2.UserActivityEvent(
            event_id=self._id("ua"),
            user_id=customer.customer_id,
            session_id=session,
            activity_type=kind,  # type: ignore[arg-type]
            page="/",
            user_agent=self.random.choice(AGENTS),
        )
        if kind in (2, 4, 5):
            product = self.random.choice(self.products)[0]
            event.product_id, event.page = product, f"/products/{product}"
        if kind == 3:
            event.search_query, event.page = self.random.choice(SEARCHES), "/search"
        if kind in (6, 7):
            event.page = "/checkout"
        if steps == 0 and self.random.random() < 0.5:
            event.referrer = "https://search.example/"
        event.event_timestamp.seconds, event.event_timestamp.nanos = self._tick()
        return event

    def _placed_order(self) -> order_event_pb2.OrderEvent:
        customer = self.random.choice(self.customers)
        event = order_event_pb2.OrderEvent(
            event_id=self._id("ord-evt"),
            status=order_event_pb2.ORDER_STATUS_PLACED,
            order_id=self._id("ord"),
            currency=COUNTRIES[customer.country][0],
            payment_method=self.random.randint(1, 5),  # type: ignore[arg-type]
        )
        event.customer.customer_id = customer.customer_id
        event.customer.name, event.customer.email = customer.name, customer.email
        address = event.shipping_address
        address.street, address.city = customer.street, customer.city
        address.postal_code, address.country = customer.postal_code, customer.country
        if customer.country == "US":
            address.state = "TX"
        for product_id, name, units, nanos in self.random.sample(
            self.products, self.random.randint(1, 5)
        ):
            item = event.items.add(
                product_id=product_id, product_name=name, quantity=self.random.randint(1, 4)
            )
            item.unit_price.units, item.unit_price.nanos = units, nanos
        event.event_timestamp.seconds, event.event_timestamp.nanos = self._tick()
        return event

    def _order(self) -> order_event_pb2.OrderEvent:
        if self.open_orders and self.random.random() < 0.7:
            order = self.open_orders[0]
            event = order_event_pb2.OrderEvent()
            event.CopyFrom(order.event)
            event.event_id = self._id("ord-evt")
            event.status = order.next_statuses.pop(0)  # type: ignore[assignment]
            event.event_timestamp.seconds, event.event_timestamp.nanos = self._tick()
            if not order.next_statuses:
                self.open_orders.pop(0)
            return event
        event = self._placed_order()
        path = self.random.choices([[2, 3, 4], [2, 3, 4, 6], [5], [2, 5]], weights=[80, 6, 8, 6])[0]
        self.open_orders.append(_Order(event, list(path)))
        return event

    def _inventory(self) -> inventory_event_pb2.InventoryEvent:
        reason = self.random.choices([1, 2, 3, 4, 5], weights=[15, 60, 12, 5, 8])[0]
        sign = {1: 1, 2: -1, 3: 1, 4: -1, 5: self.random.choice([-1, 1])}[reason]
        event = inventory_event_pb2.InventoryEvent(
            event_id=self._id("inv"),
            product_id=self.random.choice(self.products)[0],
            warehouse_id=self.random.choice(WAREHOUSES),
            quantity_change=sign * self.random.randint(1, 50 if reason == 1 else 4),
            reason=reason,  # type: ignore[arg-type]
        )
        if reason in (2, 3):
            event.order_id = self._id("ord")
        event.event_timestamp.seconds, event.event_timestamp.nanos = self._tick()
        return event

    def event(self) -> Message:
        """Return the next good event: about 60% activity, 25% order, 15% inventory."""
        family = self.random.choices(["ua", "order", "inventory"], weights=[60, 25, 15])[0]
        if family == "ua":
            return self._activity()
        if family == "order":
            return self._order()
        return self._inventory()

    # -- messages ----------------------------------------------------------------------
    def messages(self, count: int) -> Iterator[TrafficMessage]:
        """Yield ``count`` messages: good events, JSON-encoded ones, and the bad share."""
        from ecom_contracts import encode  # the producers' own encoding

        sent: list[TrafficMessage] = []
        for _ in range(count):
            roll = self.random.random()
            if roll < self.bad_share and sent:
                message = self._bad(sent)
            else:
                event = self.event()
                encoding = "JSON" if self.random.random() < self.json_share else "BINARY"
                data, attributes = encode(event, encoding)
                kind = {
                    "OrderEvent": "order",
                    "InventoryEvent": "inventory",
                    "UserActivityEvent": "user_activity",
                }[event.DESCRIPTOR.name]
                message = TrafficMessage(data, attributes, kind, event)
            sent.append(message)
            yield message

    def _bad(self, sent: list[TrafficMessage]) -> TrafficMessage:
        from ecom_contracts import encode

        kind = self.random.choice(["malformed", "invalid", "unknown_event", "duplicate"])
        if kind == "duplicate":
            index = self.random.randrange(len(sent))
            original = sent[index]
            return TrafficMessage(
                original.data, original.attributes, "duplicate", original.event, index
            )
        if kind == "malformed":
            event = self.event()
            data, attributes = encode(event, "BINARY")
            return TrafficMessage(b"\xff" + data[: len(data) // 2], attributes, kind)
        if kind == "unknown_event":
            return TrafficMessage(
                b"\x0a\x03abc", {"ecom_contract": "ecom.events.v1.RefundEvent"}, kind
            )
        activity = self._activity()
        activity.session_id = ""  # breaks string.min_len
        data, attributes = encode(activity, "BINARY", validate=False)
        return TrafficMessage(data, attributes, "invalid")
