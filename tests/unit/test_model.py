"""Modeling: exact money, UTC dates, deterministic line keys, rows shaped like the tables."""

from __future__ import annotations

import json
from decimal import Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecom_contracts_pb.events.v1 import (
    inventory_event_pb2,
    order_event_pb2,
    user_activity_event_pb2,
)
from ecom_contracts_pb.types.v1 import types_pb2
from ecom_warehouse_runtime.fact_rows import UnrepresentableValueError
from pipeline.errors import ModelingError
from pipeline.model import KEY_COLUMNS, TABLES, model, money_nanos, numeric, timestamp

ROOT = Path(__file__).resolve().parents[2]


def _order(status: int = order_event_pb2.ORDER_STATUS_PLACED) -> order_event_pb2.OrderEvent:
    event = order_event_pb2.OrderEvent(
        event_id="e1",
        status=status,  # type: ignore[arg-type]
        order_id="o1",
        currency="EUR",
        payment_method=order_event_pb2.PAYMENT_METHOD_CARD,
    )
    event.event_timestamp.FromJsonString("2025-12-31T23:59:59.999999999Z")
    event.customer.customer_id, event.customer.name, event.customer.email = "c", "N", "n@x.io"
    address = event.shipping_address
    address.street, address.city, address.postal_code, address.country = "s", "c", "1", "DE"
    for product, quantity, units, nanos in [
        ("b", 1, 5, 0),
        ("a", 3, 0, 333333333),
        ("c", 2, 5, 0),
        ("a", 1, 5, 0),
    ]:
        item = event.items.add(product_id=product, product_name=product.upper(), quantity=quantity)
        item.unit_price.units, item.unit_price.nanos = units, nanos
    return event


@pytest.mark.parametrize(
    ("nanos", "text"),
    [
        (0, "0"),
        (12_500_000_000, "12.5"),
        (1, "0.000000001"),
        (-1_990_000_000, "-1.99"),
        (10**29 * 10**9 - 1, "99999999999999999999999999999.999999999"),
    ],
)
def test_numeric(nanos: int, text: str):
    assert numeric(nanos) == text


def test_numeric_overflow_is_unrepresentable():
    with pytest.raises(UnrepresentableValueError, match="exceeds BigQuery NUMERIC"):
        numeric(10**29 * 10**9)


def test_a_value_the_warehouse_cannot_hold_is_a_modeling_error_caused_by_the_runtime():
    event = _order()
    event.event_timestamp.seconds = 253402300800  # year 10000: beyond BigQuery's TIMESTAMP
    with pytest.raises(ModelingError, match="outside BigQuery's range") as refused:
        model(event)
    assert isinstance(refused.value.__cause__, UnrepresentableValueError)
    assert str(refused.value) == str(refused.value.__cause__)


@given(st.integers(-(2**63), 2**63 - 1), st.integers(0, 999_999_999), st.integers(1, 2**31 - 1))
def test_money_arithmetic_is_exact(units: int, nanos: int, quantity: int):
    money = types_pb2.Money(units=units, nanos=nanos if units >= 0 else -nanos)
    with localcontext() as context:
        context.prec = 60  # wide enough to be exact: the oracle must not round
        exact = (Decimal(money.units) + Decimal(money.nanos).scaleb(-9)) * quantity
        assert Decimal(numeric(quantity * money_nanos(money))) == exact


def test_timestamp_is_utc_with_microseconds():
    assert timestamp(1764633599, 999_999_999) == ("2025-12-01T23:59:59.999999Z", "2025-12-01")
    assert timestamp(0, 0) == ("1970-01-01T00:00:00.000000Z", "1970-01-01")


def test_line_ids_sort_by_price_then_ties_deterministically():
    rows = [r for r in model(_order()) if r.table == "fact_order_item"]
    assert [(r.row["item_id"], r.row["product_id"], r.row["quantity"]) for r in rows] == [
        (1, "a", 1),  # 5.00, product a
        (2, "b", 1),  # 5.00, product b
        (3, "c", 2),  # 5.00, product c
        (4, "a", 3),  # 0.333333333
    ]
    assert [r.key for r in rows] == ["o1|1", "o1|2", "o1|3", "o1|4"]
    assert rows[3].row["total_amount"] == "0.999999999"


def test_line_ids_do_not_depend_on_the_order_lines_arrive_in():
    reversed_order = _order()
    items = list(reversed_order.items)[::-1]
    del reversed_order.items[:]
    reversed_order.items.extend(items)
    assert model(reversed_order) == model(_order())


def test_placed_event_gives_header_and_lines():
    rows = model(_order())
    assert [r.table for r in rows].count("fact_order_header") == 1
    assert [r.table for r in rows].count("fact_order_item") == 4
    assert [r.table for r in rows].count("fact_order") == 4
    header = rows[0].row
    assert header["order_total"] == "20.999999999"
    assert header["order_date"] == "2025-12-31"
    assert header["status"] == "placed"
    assert header["shipping_address_state"] is None


@pytest.mark.parametrize(
    "status",
    [
        order_event_pb2.ORDER_STATUS_PAID,
        order_event_pb2.ORDER_STATUS_SHIPPED,
        order_event_pb2.ORDER_STATUS_DELIVERED,
        order_event_pb2.ORDER_STATUS_CANCELLED,
        order_event_pb2.ORDER_STATUS_RETURNED,
    ],
)
def test_later_status_events_give_only_a_header(status: int):
    rows = model(_order(status))
    assert [r.table for r in rows] == ["fact_order_header"]


def _events():
    inventory = inventory_event_pb2.InventoryEvent(
        event_id="i1",
        product_id="p",
        warehouse_id="w",
        quantity_change=1,
        reason=inventory_event_pb2.INVENTORY_REASON_RETURN,
    )
    inventory.event_timestamp.seconds = 1764590400
    activity = user_activity_event_pb2.UserActivityEvent(
        event_id="u1",
        user_id="u",
        session_id="s",
        activity_type=user_activity_event_pb2.ACTIVITY_TYPE_SEARCH,
        page="/search",
        search_query="mug",
        user_agent="ua",
    )
    activity.event_timestamp.seconds = 1764590400
    return [_order(), inventory, activity]


def test_rows_have_exactly_the_table_columns():
    """Rows are shaped by the warehouse contracts: every column but the BigQuery-filled one."""
    seen = set()
    for event in _events():
        for row in model(event):
            schema = json.loads((ROOT / "bq_schemas" / f"{row.table}.json").read_text())
            columns = {c["name"] for c in schema if "defaultValueExpression" not in c}
            assert set(row.row) == columns, row.table
            required = {c["name"] for c in schema if c["mode"] == "REQUIRED"}
            assert all(row.row[c] is not None for c in required), row.table
            assert row.row[KEY_COLUMNS[row.table]] == row.key
            seen.add(row.table)
    assert seen == set(TABLES)


def test_optional_fields_become_null():
    _, inventory, activity = _events()
    assert model(inventory)[0].row["order_id"] is None
    assert model(inventory)[0].row["reason"] == "return"
    row = model(activity)[0].row
    assert (row["product_id"], row["referrer"], row["search_query"]) == (None, None, "mug")
    assert row["activity_type"] == "search"


@given(st.integers(-62135596800, 253402300799), st.integers(0, 999_999_999))
def test_timestamp_matches_the_calendar(seconds: int, nanos: int):
    import datetime as dt

    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        seconds=seconds, microseconds=nanos // 1000
    )
    expected = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S.%f}Z"
    assert timestamp(seconds, nanos) == (expected, expected[:10])


@pytest.mark.parametrize(("seconds", "nanos"), [(253402300800, 0), (-62135596801, 0), (0, -1)])
def test_timestamp_outside_bigquery_range_is_unrepresentable(seconds: int, nanos: int):
    with pytest.raises(UnrepresentableValueError, match="outside BigQuery's range"):
        timestamp(seconds, nanos)
