"""Stage 5, model: events in, fact rows out. Pure functions shaped by the warehouse contracts.

Rows are dicts of JSON-ready values, keyed by column name, as BigQuery's
``insertAll`` takes them: NUMERIC as an exact decimal string, DATE as
``YYYY-MM-DD``, TIMESTAMP as RFC 3339 UTC with microseconds, enums as their
warehouse label (``delivered``), absent optional fields as ``None``. The
``ingestion_timestamp`` column is left to BigQuery's default.

Grain (see the README): ``fact_order_header`` gets one row per order event;
``fact_order_item`` and ``fact_order`` get one row per line of an order's
*placed* event only, so later status events never count a line twice.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, Final, cast

from google.protobuf.message import Message

from contracts.bigquery_schema import enum_labels
from ecom.events.v1 import inventory_event_pb2, order_event_pb2, user_activity_event_pb2
from ecom.types.v1 import types_pb2
from ecom.warehouse.v1 import (
    fact_inventory_pb2,
    fact_order_header_pb2,
    fact_order_item_pb2,
    fact_order_pb2,
    fact_user_activity_pb2,
    options_pb2,
)
from ecom_warehouse.artifacts import WAREHOUSE_TABLES
from pipeline.errors import ModelingError

Row = dict[str, Any]

TABLES: Final = (
    "fact_order_header",
    "fact_order_item",
    "fact_order",
    "fact_inventory",
    "fact_user_activity",
)
"""Every table the model writes, as declared by the warehouse contracts."""

KEY_COLUMNS: Final = {table: WAREHOUSE_TABLES[table]["key_column"] for table in TABLES}
"""The column holding each table's row key (``FactRow.key``), as its contract declares it."""

NANOS: Final = 1_000_000_000
NUMERIC_LIMIT: Final = 10**29 * NANOS
"""BigQuery NUMERIC holds |x| < 10^29 with 9 fractional digits; in nanos."""

_STATUS: Final = enum_labels(order_event_pb2.OrderStatus.DESCRIPTOR)
_PAYMENT: Final = enum_labels(order_event_pb2.PaymentMethod.DESCRIPTOR)
_REASON: Final = enum_labels(inventory_event_pb2.InventoryReason.DESCRIPTOR)
_ACTIVITY: Final = enum_labels(user_activity_event_pb2.ActivityType.DESCRIPTOR)
_EPOCH_DATE: Final = dt.date(1970, 1, 1)
_MIN_SECONDS: Final = -62135596800  # 0001-01-01T00:00:00Z
_MAX_SECONDS: Final = 253402300799  # 9999-12-31T23:59:59Z


@dataclass(frozen=True)
class FactRow:
    """One row for one table, with the key that makes its insertion idempotent."""

    table: str
    key: str
    row: Row


def money_nanos(money: types_pb2.Money) -> int:
    """Return ``money`` as an integer number of nanos (exact)."""
    return money.units * NANOS + money.nanos


def numeric(nanos: int) -> str:
    """Return an amount in nanos as a NUMERIC decimal string: ``12500000000`` is ``"12.5"``.

    Raises ModelingError when the amount exceeds BigQuery NUMERIC's range.
    """
    if abs(nanos) >= NUMERIC_LIMIT:
        raise ModelingError(f"amount {nanos} nanos exceeds BigQuery NUMERIC")
    sign = "-" if nanos < 0 else ""
    whole, fraction = divmod(abs(nanos), NANOS)
    if not fraction:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:09d}".rstrip("0")


@functools.lru_cache(maxsize=4096)
def _day(days: int) -> str:
    """Return ``YYYY-MM-DD`` of a day number since the epoch (cached: events cluster in days)."""
    return (_EPOCH_DATE + dt.timedelta(days=days)).isoformat()


def timestamp(seconds: int, nanos: int) -> tuple[str, str]:
    """Return (RFC 3339 UTC timestamp with microseconds, ``YYYY-MM-DD`` date) of a Timestamp.

    BigQuery keeps microseconds; the nanosecond remainder is truncated.
    Raises ModelingError outside BigQuery's range (years 1 to 9999).
    """
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS or not 0 <= nanos <= 999_999_999:
        raise ModelingError(f"timestamp {seconds}s {nanos}ns is outside BigQuery's range")
    days, second_of_day = divmod(seconds, 86_400)
    hours, rest = divmod(second_of_day, 3600)
    minutes, secs = divmod(rest, 60)
    date = _day(days)
    return f"{date}T{hours:02d}:{minutes:02d}:{secs:02d}.{nanos // 1000:06d}Z", date


def _sorted_lines(event: order_event_pb2.OrderEvent) -> list[order_event_pb2.LineItem]:
    """Lines in item-id order: unit price descending, then product id, name, quantity, position."""
    indexed = list(enumerate(event.items))
    indexed.sort(
        key=lambda pair: (
            -money_nanos(pair[1].unit_price),
            pair[1].product_id,
            pair[1].product_name,
            pair[1].quantity,
            pair[0],
        )
    )
    return [item for _, item in indexed]


def order_rows(event: order_event_pb2.OrderEvent) -> list[FactRow]:
    """Return the header row of an order event, plus its line rows if it is the placed event."""
    event_ts, event_date = timestamp(event.event_timestamp.seconds, event.event_timestamp.nanos)
    address = event.shipping_address
    customer = event.customer
    common = {
        "order_id": event.order_id,
        "event_id": event.event_id,
        "status": _STATUS[event.status],
        "order_date": event_date,
        "event_timestamp": event_ts,
        "customer_id": customer.customer_id,
        "customer_name": customer.name,
        "customer_email": customer.email,
        "currency": event.currency,
        "shipping_address_street": address.street,
        "shipping_address_city": address.city,
        "shipping_address_state": address.state or None,
        "shipping_address_postal_code": address.postal_code,
        "shipping_address_country": address.country,
        "payment_method": _PAYMENT[event.payment_method],
    }
    line_totals = [item.quantity * money_nanos(item.unit_price) for item in event.items]
    header = {
        **common,
        "order_total": numeric(sum(line_totals)),
        "item_count": len(event.items),
    }
    rows = [FactRow("fact_order_header", event.event_id, header)]
    if event.status != order_event_pb2.ORDER_STATUS_PLACED:
        return rows
    for item_id, item in enumerate(_sorted_lines(event), start=1):
        line_key = f"{event.order_id}|{item_id}"
        line = {
            "line_key": line_key,
            "order_id": event.order_id,
            "item_id": item_id,
            "event_id": event.event_id,
            "order_date": event_date,
            "event_timestamp": event_ts,
            "product_id": item.product_id,
            "product_name": item.product_name,
            "quantity": item.quantity,
            "unit_price": numeric(money_nanos(item.unit_price)),
            "total_amount": numeric(item.quantity * money_nanos(item.unit_price)),
            "currency": event.currency,
        }
        rows.append(FactRow("fact_order_item", line_key, line))
        rows.append(FactRow("fact_order", line_key, {**common, **line}))
    return rows


def inventory_rows(event: inventory_event_pb2.InventoryEvent) -> list[FactRow]:
    """Return the one fact_inventory row of an inventory event."""
    event_ts, event_date = timestamp(event.event_timestamp.seconds, event.event_timestamp.nanos)
    row = {
        "event_id": event.event_id,
        "event_date": event_date,
        "event_timestamp": event_ts,
        "product_id": event.product_id,
        "warehouse_id": event.warehouse_id,
        "quantity_change": event.quantity_change,
        "reason": _REASON[event.reason],
        "order_id": event.order_id if event.HasField("order_id") else None,
    }
    return [FactRow("fact_inventory", event.event_id, row)]


def user_activity_rows(event: user_activity_event_pb2.UserActivityEvent) -> list[FactRow]:
    """Return the one fact_user_activity row of a user activity event."""
    event_ts, event_date = timestamp(event.event_timestamp.seconds, event.event_timestamp.nanos)
    row = {
        "event_id": event.event_id,
        "event_date": event_date,
        "event_timestamp": event_ts,
        "user_id": event.user_id,
        "session_id": event.session_id,
        "activity_type": _ACTIVITY[event.activity_type],
        "page": event.page,
        "product_id": event.product_id if event.HasField("product_id") else None,
        "search_query": event.search_query if event.HasField("search_query") else None,
        "user_agent": event.user_agent,
        "referrer": event.referrer if event.HasField("referrer") else None,
    }
    return [FactRow("fact_user_activity", event.event_id, row)]


_MODELS: Final = {
    order_event_pb2.OrderEvent.DESCRIPTOR.full_name: order_rows,
    inventory_event_pb2.InventoryEvent.DESCRIPTOR.full_name: inventory_rows,
    user_activity_event_pb2.UserActivityEvent.DESCRIPTOR.full_name: user_activity_rows,
}


_TABLE_MESSAGES: Final = {
    "fact_order_header": fact_order_header_pb2.FactOrderHeader.DESCRIPTOR,
    "fact_order_item": fact_order_item_pb2.FactOrderItem.DESCRIPTOR,
    "fact_order": fact_order_pb2.FactOrder.DESCRIPTOR,
    "fact_inventory": fact_inventory_pb2.FactInventory.DESCRIPTOR,
    "fact_user_activity": fact_user_activity_pb2.FactUserActivity.DESCRIPTOR,
}
_pass_through: dict[tuple[str, str], tuple[str, ...]] = {}


def _written_columns(table: str) -> tuple[str, ...]:
    """Return the columns the pipeline writes (all but those BigQuery fills by default)."""
    names = []
    for field in _TABLE_MESSAGES[table].fields:
        declared: Any = field.GetOptions().Extensions[cast(Any, options_pb2.column)]
        if not declared.default_value_expression:
            names.append(field.name)
    return tuple(names)


def _field_value(event: Message, name: str) -> Any:
    """Return event field ``name`` as a row value (None when absent or not a plain value)."""
    field = event.DESCRIPTOR.fields_by_name[name]
    if field.has_presence and not event.HasField(name):
        return None
    value = getattr(event, name)
    if field.enum_type is not None:
        return enum_labels(cast(Any, field.enum_type)).get(value)
    if field.message_type is None:
        return list(value) if field.is_repeated else value
    if field.message_type.full_name == "google.protobuf.Timestamp":
        return timestamp(value.seconds, value.nanos)[0]
    if field.message_type.full_name == "ecom.types.v1.Money":
        return numeric(money_nanos(value))
    return None


def _complete(event: Message, rows: list[FactRow]) -> list[FactRow]:
    """Fill columns the explicit model does not write from same-named event fields.

    This is how a contract change flows through without new modeling code: add
    an ``optional`` field to an event and a NULLABLE column of the same name to
    its table, and events of older revisions land with NULL there.
    """
    for row in rows:
        key = (event.DESCRIPTOR.full_name, row.table)
        extra = _pass_through.get(key)
        if extra is None:
            fields = event.DESCRIPTOR.fields_by_name
            extra = tuple(c for c in _written_columns(row.table) if c not in row.row)
            unknown = [c for c in extra if c not in fields]
            if unknown:
                raise ModelingError(f"{row.table} columns {unknown} have no source in the event")
            _pass_through[key] = extra
        for column in extra:
            row.row[column] = _field_value(event, column)
    return rows


def model(event: Message) -> list[FactRow]:
    """Return the fact rows of a validated event. Raises ModelingError."""
    rows: list[FactRow] = _MODELS[event.DESCRIPTOR.full_name](event)  # type: ignore[operator]
    return _complete(event, rows)
