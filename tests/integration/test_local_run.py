"""``make run`` at small scale: the real emulator, the streaming DirectRunner and DuckDB.

The reconciliation and the five query results are checked against values
computed here, independently, from the same seeded traffic. Wherever the
Google Cloud CLI is installed the emulator is required (the test fails when it
cannot start); on machines without it the streaming case is skipped, loudly.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from ecom_contracts_pb.events.v1 import (
    inventory_event_pb2,
    order_event_pb2,
    user_activity_event_pb2,
)
from ops.traffic import TrafficGenerator
from tests.integration.conftest import require_emulator

ROOT = Path(__file__).resolve().parents[2]
EVENTS, SEED = 800, 11


def _local_run(workdir: Path, *extra: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "ops.local_run", "--events", str(EVENTS), "--rate", "800",
         "--seed", str(SEED), "--timeout", "240", "--workdir", str(workdir), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "(reconciled)" in completed.stdout
    summary: dict[str, Any] = json.loads((workdir / "summary.json").read_text())
    return summary


def _money(money: Any) -> Decimal:
    return Decimal(money.units) + Decimal(money.nanos).scaleb(-9)


def _expected() -> dict[str, Any]:
    """What the warehouse must answer, computed from the generated events alone."""
    generator = TrafficGenerator(seed=SEED, bad_share=0.05, json_share=0.05)
    messages = list(generator.messages(EVENTS))
    events: dict[str, Any] = {}
    good_messages = 0
    for message in messages:
        if message.event is not None and message.kind in {
            "order",
            "inventory",
            "user_activity",
            "duplicate",
        }:
            events[message.event.event_id] = message.event  # type: ignore[attr-defined]
            good_messages += 1
    orders = [e for e in events.values() if isinstance(e, order_event_pb2.OrderEvent)]
    placed = [e for e in orders if e.status == order_event_pb2.ORDER_STATUS_PLACED]
    delivered: Counter[str] = Counter(
        e.shipping_address.country
        for e in orders
        if e.status == order_event_pb2.ORDER_STATUS_DELIVERED
        and dt.datetime.fromtimestamp(e.event_timestamp.seconds, dt.UTC).date()
        == dt.date(2025, 12, 1)
    )
    per_product: dict[str, list[Any]] = defaultdict(lambda: [set(), 0, Decimal(0)])
    per_customer: dict[str, list[Any]] = defaultdict(lambda: [set(), Decimal(0)])
    for order in placed:
        for item in order.items:
            product = per_product[item.product_id]
            product[0].add(order.order_id)
            product[1] += item.quantity
            product[2] += item.quantity * _money(item.unit_price)
            customer = per_customer[order.customer.customer_id]
            customer[0].add(order.order_id)
            customer[1] += item.quantity * _money(item.unit_price)
    returns: Counter[str] = Counter()
    for event in events.values():
        if (
            isinstance(event, inventory_event_pb2.InventoryEvent)
            and event.reason == inventory_event_pb2.INVENTORY_REASON_RETURN
        ):
            returns[event.product_id] += event.quantity_change
    activities = [
        e for e in events.values() if isinstance(e, user_activity_event_pb2.UserActivityEvent)
    ]
    return {
        "published": len(messages),
        "events": len(events),
        "dead_letters": len(messages) - good_messages,
        "q1": sorted([country, count] for country, count in delivered.items()),
        "q2": {p: (len(v[0]), v[1], v[2]) for p, v in per_product.items()},
        "q3": {c: (len(v[0]), v[1]) for c, v in per_customer.items()},
        "q4": dict(returns),
        "q5": len(activities),
        "sessions": len({(a.user_id, a.session_id) for a in activities}),
    }


def _check(summary: dict[str, Any]) -> None:
    expected = _expected()
    assert summary["published"] == expected["published"]
    assert summary["events_in_warehouse"] == expected["events"]
    assert summary["dead_letters"] == expected["dead_letters"]
    queries = summary["queries"]
    assert queries["1_delivered_orders_per_country"]["rows"] == expected["q1"]
    assert expected["q1"], "the seed's date must have delivered orders"
    q2 = {r[0]: (r[2], r[3], Decimal(r[4])) for r in queries["2_orders_per_product"]["rows"]}
    assert q2 == expected["q2"]
    q3 = {r[0]: (r[2], Decimal(r[3])) for r in queries["3_orders_per_customer"]["rows"]}
    assert q3 == expected["q3"]
    q4 = {r[0]: r[1] for r in queries["4_products_with_most_returns"]["rows"]}
    assert q4 == expected["q4"]
    assert [r[1] for r in queries["4_products_with_most_returns"]["rows"]] == sorted(
        q4.values(), reverse=True
    )
    q5 = queries["5_step_in_session"]["rows"]
    assert len(q5) == expected["q5"]
    assert sum(1 for row in q5 if row[4] == 1) == expected["sessions"]


def test_streaming_run_through_the_emulator(tmp_path: Path):
    require_emulator()
    summary = _local_run(tmp_path)
    assert summary["mode"] == "streaming"
    assert summary["event_to_row_latency_s"]["p99"] > 0
    _check(summary)


def test_replay_fallback(tmp_path: Path):
    summary = _local_run(tmp_path, "--replay")
    assert summary["mode"] == "replay"
    assert summary["pipeline_counters"]["UserActivityEvent.ok"] > 0
    _check(summary)


def test_the_reconciliation_can_fail(tmp_path: Path):
    """Three independent counts: a lost event shows, it is not absorbed as a 'duplicate'."""
    import duckdb

    from ops import local_run
    from ops.report import DeadLetterScan

    summary = _local_run(tmp_path, "--replay")
    assert summary["reconciled"]
    generator = TrafficGenerator(seed=SEED, bad_share=0.05, json_share=0.05)
    expected = local_run.expectation(list(generator.messages(EVENTS)))
    assert summary["duplicates_published"] == expected.duplicates > 0
    workdir = local_run.Workdir(tmp_path)
    with duckdb.connect(str(workdir.warehouse)) as connection:
        connection.execute("DELETE FROM events.fact_user_activity WHERE event_id IN "
                           "(SELECT event_id FROM events.fact_user_activity LIMIT 1)")  # fmt: skip
    scan = DeadLetterScan()
    scan.scan(workdir.dead_letters)
    progress = local_run.Progress(published=EVENTS, done=True, first_publish=1.0)
    after, reconciled = local_run.summarize(workdir, expected, progress, scan, 2.0, "replay", {})
    assert not reconciled
    assert after["events_in_warehouse"] == summary["events_in_warehouse"] - 1
