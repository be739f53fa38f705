"""The Storage Write API path: rows checked against their table before the write.

The write itself is Beam's Java cross-language transform, which needs its
expansion service (not reachable here), so these tests cover everything up
to it: the conformance check on real rows, the dead letters of messages that
do not fit, and the schema handed to the connector.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.model import TABLES, FactRow
from pipeline.record import PubsubRecord
from pipeline.sinks.bigquery_storage import CONFORMING, CheckRowsFn, api_schema
from pipeline.sinks.conformance import load_schema, row_problem

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "expected"
STAMP = "2026-01-01T00:00:00.000000Z"


@pytest.mark.parametrize("table", TABLES)
def test_every_golden_row_fits_its_table(table: str):
    schema = load_schema(table)
    for line in (GOLDEN / f"{table}.ndjson").read_text().splitlines():
        assert row_problem(schema, {**json.loads(line), "ingestion_timestamp": STAMP}) is None


def _row(**changes: Any) -> dict[str, Any]:
    row = json.loads((GOLDEN / "fact_inventory.ndjson").read_text().splitlines()[0])
    return {**row, "ingestion_timestamp": STAMP, **changes}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"warehouse_id": None}, "warehouse_id is REQUIRED"),
        ({"quantity_change": 2**63}, "quantity_change: not a 64-bit integer"),
        ({"quantity_change": True}, "quantity_change: not a 64-bit integer"),
        ({"event_date": "2025-12-1"}, "event_date: not a YYYY-MM-DD date"),
        ({"event_timestamp": "2025-12-01 10:00:00"}, "event_timestamp: not an RFC 3339"),
        ({"coupon": "X"}, "columns ['coupon'] are not in the table"),
    ],
)
def test_rows_that_do_not_fit(changes: dict[str, Any], problem: str):
    found = row_problem(load_schema("fact_inventory"), _row(**changes))
    assert found is not None
    assert problem in found


def test_numeric_checks():
    schema = load_schema("fact_order_item")
    row = json.loads((GOLDEN / "fact_order_item.ndjson").read_text().splitlines()[0])
    base = {**row, "ingestion_timestamp": STAMP}
    assert row_problem(schema, {**base, "unit_price": "1.0000000001"}) == (
        "unit_price: more than 9 decimal places"
    )
    assert "not a NUMERIC" in (row_problem(schema, {**base, "total_amount": "1e30"}) or "")
    assert "not a NUMERIC" in (row_problem(schema, {**base, "total_amount": 12.5}) or "")


def test_messages_that_do_not_fit_are_dead_lettered_whole():
    good = FactRow("fact_inventory", "a", _row(event_id="a"))
    bad = FactRow("fact_inventory", "b", {**_row(event_id="b"), "warehouse_id": None})
    elements = [[((good,), PubsubRecord(b"a", {}, "m-a")), ((bad,), PubsubRecord(b"b", {}, "m-b"))]]
    with TestPipeline() as pipeline:
        checked = (
            pipeline
            | beam.Create(elements)
            | beam.ParDo(CheckRowsFn()).with_outputs(CONFORMING, main="dead_letters")
        )
        written = checked[CONFORMING] | beam.MapTuple(lambda table, row: (table, row["event_id"]))
        assert_that(written, equal_to([("fact_inventory", "a")]), label="conforming")
        letters = checked.dead_letters | beam.MapTuple(
            lambda key, letter: (key, json.loads(letter[0])["detail"])
        )
        assert_that(
            letters,
            equal_to(
                [
                    (
                        "m-b",
                        "the BigQuery schema refused a fact_inventory row (b): "
                        "warehouse_id is REQUIRED",
                    )
                ]
            ),
            label="dead_letters",
        )


def test_connector_schema_keeps_names_types_and_modes_only():
    schema = api_schema("fact_order")
    assert {"name", "type", "mode"} == set(schema["fields"][0])
    assert not any("policyTags" in field or "description" in field for field in schema["fields"])
