"""The warehouse sinks: idempotent by row key, refused rows dead-lettered, transient errors retried.

BigQuery cannot be reached from here, so its client is replaced by a fake at
the ``insert_rows_json`` boundary (the only call the sink makes); everything
around it is the real DoFn on the DirectRunner. DuckDB is the real database.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import apache_beam as beam
import duckdb
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from google.api_core import exceptions

from pipeline.model import FactRow
from pipeline.record import PubsubRecord
from pipeline.sinks.bigquery import InsertRowsFn, TransientInsertError, WriteToBigQuery
from pipeline.sinks.duckdb import WriteToDuckDB


def _row(key: str, **overrides: Any) -> FactRow:
    row = {
        "event_id": key,
        "event_date": "2025-12-01",
        "event_timestamp": "2025-12-01T10:00:00.000000Z",
        "product_id": "p",
        "warehouse_id": "w",
        "quantity_change": 1,
        "reason": "restock",
        "order_id": None,
        **overrides,
    }
    return FactRow("fact_inventory", key, row)


def _element(key: str, **overrides: Any) -> list[tuple[tuple[FactRow, ...], PubsubRecord]]:
    """One processed message with one row, as ProcessMessages emits it (a list of one)."""
    return [((_row(key, **overrides),), PubsubRecord(key.encode(), {"k": key}, f"msg-{key}"))]


class FakeBigQuery:
    """Records every insert; answers with scripted failures first (shared across pickling)."""

    calls: ClassVar[list[tuple[str, list[str]]]] = []
    script: ClassVar[list[Any]] = []

    def insert_rows_json(
        self,
        table: str,
        json_rows: Sequence[dict[str, Any]],
        *,
        row_ids: Sequence[str],
        skip_invalid_rows: bool,
    ) -> Sequence[dict[str, Any]]:
        assert skip_invalid_rows
        FakeBigQuery.calls.append((table, list(row_ids)))
        if FakeBigQuery.script:
            step = FakeBigQuery.script.pop(0)
            if isinstance(step, Exception):
                raise step
            answer: Sequence[dict[str, Any]] = step(json_rows)
            return answer
        return [
            {"index": i, "errors": [{"reason": "invalid", "message": "bad quantity"}]}
            for i, row in enumerate(json_rows)
            if row["quantity_change"] == 0
        ]


@pytest.fixture(autouse=True)
def _reset_fake():
    FakeBigQuery.calls = []
    FakeBigQuery.script = []


def _fake(_: str) -> FakeBigQuery:
    return FakeBigQuery()


def _run_bigquery(elements: list[list[tuple[tuple[FactRow, ...], PubsubRecord]]]) -> None:
    """Write ``elements``; assert that exactly the message ``msg-bad`` is dead-lettered."""
    with TestPipeline() as pipeline:
        refused = (
            pipeline
            | beam.Create(elements)
            | WriteToBigQuery("proj", "events", client_factory=_fake)
            | beam.MapTuple(lambda key, letter: (key, json.loads(letter[0])["reason"]))
        )
        assert_that(refused, equal_to([("msg-bad", "REASON_SINK_REJECTED")]))


def test_bigquery_uses_row_keys_as_insert_ids_and_dead_letters_refused_rows():
    _run_bigquery([_element("a"), _element("bad", quantity_change=0), _element("b")])
    ((table, ids),) = FakeBigQuery.calls
    assert table == "proj.events.fact_inventory"
    assert sorted(ids) == ["a", "b", "bad"]


def test_bigquery_retries_transient_errors_with_the_same_insert_ids():
    FakeBigQuery.script = [
        exceptions.ServiceUnavailable("try later"),
        lambda rows: [
            {
                "index": i,
                "errors": [{"reason": "backendError"}]
                if row["event_id"] == "a"
                else [{"reason": "invalid", "message": "bad quantity"}],
            }
            for i, row in enumerate(rows)
        ],
    ]
    _run_bigquery([_element("a"), _element("bad", quantity_change=0)])
    assert len(FakeBigQuery.calls) == 3
    first, second, third = (sorted(ids) for _, ids in FakeBigQuery.calls)
    assert first == second == ["a", "bad"]
    assert third == ["a"]  # only the transiently failed row again


def test_bigquery_persistent_transient_failure_fails_the_bundle():
    fn = InsertRowsFn("proj", "events", client_factory=_fake, max_attempts=3, base_delay=0)
    fn.setup()
    fn.start_bundle()
    FakeBigQuery.script = [TimeoutError("slow")] * 3
    list(fn.process(_element("a")))
    with pytest.raises(TransientInsertError, match="failing the bundle so Pub/Sub redelivers"):
        list(fn.finish_bundle())


def test_bigquery_programming_errors_are_not_swallowed():
    fn = InsertRowsFn("proj", "events", client_factory=_fake, base_delay=0)
    fn.setup()
    fn.start_bundle()
    FakeBigQuery.script = [exceptions.Forbidden("no permission")]
    list(fn.process(_element("a")))
    with pytest.raises(exceptions.Forbidden):
        list(fn.finish_bundle())


def test_duckdb_is_idempotent_and_dead_letters_refused_rows(tmp_path: Path):
    path = str(tmp_path / "w.duckdb")
    elements = [_element("a"), _element("a"), _element("b"), _element("bad", product_id=None)]
    for _ in range(2):  # a second delivery of everything changes nothing
        with TestPipeline() as pipeline:
            refused = pipeline | beam.Create(elements) | WriteToDuckDB(path) | beam.Keys()
            assert_that(refused, equal_to(["msg-bad"]))
    with duckdb.connect(path) as connection:
        rows = connection.sql("SELECT event_id FROM events.fact_inventory ORDER BY 1").fetchall()
        stamped = connection.sql(
            "SELECT count(*) FROM events.fact_inventory WHERE ingestion_timestamp IS NOT NULL"
        ).fetchall()
    assert rows == [("a",), ("b",)]
    assert stamped == [(2,)]
