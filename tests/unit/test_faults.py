"""Write-side faults and repeated deliveries, on the DirectRunner with real files and DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import apache_beam as beam
import duckdb
import pytest
from apache_beam.testing.test_pipeline import TestPipeline

import ecom_contracts
from ops.traffic import TrafficGenerator
from pipeline.deadletter import DeadLetterLine
from pipeline.deadletter_files import WriteDeadLetters
from pipeline.main import run
from pipeline.record import PubsubRecord


def test_a_dead_letter_write_failure_fails_the_pipeline(tmp_path: Path):
    """Nothing is dropped: the bundle fails (so Pub/Sub would redeliver) instead."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the dead-letter folder should be")
    with pytest.raises(Exception, match="not-a-folder"), TestPipeline() as pipeline:
        _ = (
            pipeline
            | beam.Create([("m1", DeadLetterLine('{"messageId": "m1"}', "unknown"))])
            | WriteDeadLetters(str(blocker / "dead_letters"), 60)
        )


def test_many_deliveries_of_a_message_give_one_set_of_rows(tmp_path: Path):
    generator = TrafficGenerator(seed=3, bad_share=0, json_share=0)
    order = next(m for m in generator.messages(200) if m.kind == "order" and m.event.status == 1)  # type: ignore[union-attr]
    invalid = PubsubRecord(b"\x08\x01", {"ecom_contract": "ecom.events.v1.InventoryEvent"}, "bad-1")
    lines = []
    for _delivery in range(50):  # redeliveries keep the message id
        lines.append(PubsubRecord(order.data, order.attributes, "order-1").to_json())
        lines.append(invalid.to_json())
    for copy in range(20):  # re-publications get new message ids
        lines.append(PubsubRecord(order.data, order.attributes, f"order-copy-{copy}").to_json())
    source = tmp_path / "input.ndjson"
    source.write_text("\n".join(lines) + "\n")
    warehouse = tmp_path / "w.duckdb"
    for _ in range(2):  # and the whole input replayed a second time
        run(
            [
                "--replay", str(source),
                "--sink", "duckdb",
                "--duckdb_path", str(warehouse),
                "--dead_letter_prefix", str(tmp_path / "dead_letters"),
            ]
        )  # fmt: skip
    lines_in_order = len(order.event.items)  # type: ignore[union-attr]
    with duckdb.connect(str(warehouse)) as connection:
        counts = {
            table: connection.execute(f"SELECT count(*) FROM events.{table}").fetchall()[0][0]
            for table in ("fact_order_header", "fact_order_item", "fact_order")
        }
    assert counts == {
        "fact_order_header": 1,
        "fact_order_item": lines_in_order,
        "fact_order": lines_in_order,
    }
    letters = [
        line
        for path in (tmp_path / "dead_letters").glob("*.ndjson")
        for line in path.read_text().splitlines()
    ]
    assert len(letters) == 2  # one per run: each run's window holds the 50 deliveries once


GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "input.ndjson"


def _replay_into_duckdb(tmp_path: Path) -> None:
    run(
        ["--replay", str(GOLDEN), "--sink", "duckdb", "--duckdb_path", str(tmp_path / "w.duckdb"),
         "--dead_letter_prefix", str(tmp_path / "dead_letters")]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("builder", "engine"),
    [("model_if_valid", "generated"), ("model", "protovalidate")],
    ids=["checking builder", "builder after protovalidate"],
)
def test_a_bug_in_the_model_fails_the_run_instead_of_dead_lettering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, builder: str, engine: str
):
    def buggy_model(event: object, *contract: str) -> list[object]:
        raise KeyError("a column the model forgot")

    monkeypatch.setattr(f"pipeline.process.{builder}", buggy_model)
    ecom_contracts.use_validation_engine(engine)
    try:
        with pytest.raises(Exception, match="a column the model forgot"):
            _replay_into_duckdb(tmp_path)
    finally:
        ecom_contracts.use_validation_engine("generated")
    assert not list((tmp_path / "dead_letters").glob("*.ndjson"))  # not hidden as data errors


def test_a_bug_in_a_sink_fails_the_run_instead_of_dead_lettering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def buggy_write(self: object, table: str, batch: object) -> list[object]:
        raise KeyError(f"a bug writing {table}")

    monkeypatch.setattr("pipeline.sinks.duckdb.InsertDuckDBFn.write", buggy_write)
    with pytest.raises(Exception, match="a bug writing fact_"):
        _replay_into_duckdb(tmp_path)
    letters = [
        json.loads(line)["reason"]
        for path in (tmp_path / "dead_letters").glob("*.ndjson")
        for line in path.read_text().splitlines()
    ]
    assert "REASON_SINK_REJECTED" not in letters
    assert "REASON_SINK_UNAVAILABLE" not in letters
