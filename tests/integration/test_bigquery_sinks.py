"""Both BigQuery write methods on the BigQuery emulator: rows land; refusals and outages lose none.

Each test has a project of its own on the session's local-bigquery, with the
``events`` dataset, the five fact tables and their ``_dedup`` views made from
the generated DDL. The pipeline writes there through the real clients
(``insertAll`` over REST, ``AppendRows`` over gRPC) that
:mod:`pipeline.endpoints` points at the emulator. What local-bigquery does not
enforce (insert-id length, request sizes) is tested at the client boundary in
``tests/unit/test_sinks.py`` and ``tests/unit/test_storage_write.py``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from google.cloud import bigquery
from google.protobuf import text_format

from ecom_contracts_pb.events.v1 import order_event_pb2
from ecom_warehouse.artifacts import WAREHOUSE_TABLES
from ops.emulators import BigQueryEmulator
from pipeline import endpoints
from pipeline.main import run
from pipeline.model import KEY_COLUMNS, TABLES, FactRow
from pipeline.process import process
from pipeline.record import MessageRows, PubsubRecord
from pipeline.sinks.bigquery import InsertRowsFn
from pipeline.sinks.bigquery_storage import AppendRowsFn
from pipeline.sinks.warehouse_sink import WarehouseSinkFn

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
METHODS = ("streaming_inserts", "storage_write_api")


def _warehouse(project: str) -> Any:
    """Create ``events``, the fact tables and their views in ``project``; return a client."""
    client = endpoints.bigquery_client(project)
    client.create_dataset("events")
    for table in TABLES:
        client.query(WAREHOUSE_TABLES[table]["ddl"]).result()
        client.query(WAREHOUSE_TABLES[table]["view_ddl"]).result()
    return client


def _json_ready(value: Any) -> Any:
    """Return a value read back from BigQuery as the pipeline's rows carry it."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def _rows(client: Any, relation: str) -> list[str]:
    """Return the rows of ``relation`` as sorted JSON lines, without ``ingestion_timestamp``."""
    query = f"SELECT * EXCEPT (ingestion_timestamp) FROM events.{relation}"
    rows = [{k: _json_ready(v) for k, v in row.items()} for row in client.query(query).result()]
    return sorted(json.dumps(row, sort_keys=True) for row in rows)


def _expected(table: str) -> list[str]:
    lines = (GOLDEN / "expected" / f"{table}.ndjson").read_text().splitlines()
    return sorted(json.dumps(json.loads(line), sort_keys=True) for line in lines)


def _letters(folder: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(folder.glob("*.ndjson"))
        for line in path.read_text().splitlines()
    ]


def _replay(project: str, method: str, source: str, dead_letters: Path) -> None:
    run(
        ["--replay", source, "--sink", "bigquery", "--bq_project", project,
         "--bq_dataset", "events", "--bq_write_method", method,
         "--dead_letter_prefix", str(dead_letters)]
    )  # fmt: skip


def _assert_tables_are_the_golden_rows(client: Any) -> None:
    for table in TABLES:
        expected = _expected(table)
        assert _rows(client, f"{table}_dedup") == expected, table
        # The tables may hold a row twice (at-least-once); never a row that is not expected.
        assert sorted(set(_rows(client, table))) == expected, table
        stamped = client.query(
            f"SELECT COUNTIF(ingestion_timestamp IS NULL), COUNT(*) FROM events.{table}"
        ).result()
        assert next(iter(stamped))[0] == 0, f"{table}: ingestion_timestamp left unfilled"


def test_both_write_methods_land_exactly_the_golden_rows(
    bigquery_emulator: BigQueryEmulator, tmp_path: Path
):
    """The golden input, replayed once per method, lands the golden rows (views and tables).

    Its dead letters are the golden run's; BigQuery fills ``ingestion_timestamp``
    (the Storage Write rows leave it out and ask for the column's default).
    """
    expected_letters = sorted(
        (letter["messageId"], letter["reason"])
        for letter in map(
            json.loads, (GOLDEN / "expected" / "dead_letters.ndjson").read_text().splitlines()
        )
    )
    landed = {}
    for method in METHODS:
        project = f"golden-{method.replace('_', '-')}"
        client = _warehouse(project)
        _replay(project, method, str(GOLDEN / "input.ndjson"), tmp_path / method)
        _assert_tables_are_the_golden_rows(client)
        letters = _letters(tmp_path / method)
        assert sorted((d["messageId"], d["reason"]) for d in letters) == expected_letters
        landed[method] = {table: _rows(client, f"{table}_dedup") for table in TABLES}
    assert landed["streaming_inserts"] == landed["storage_write_api"]


def _long_order() -> PubsubRecord:
    case = ROOT / "tests" / "contract" / "cases" / "order_event" / "valid_three_items.textproto"
    event = text_format.Parse(case.read_text(), order_event_pb2.OrderEvent())
    event.event_id, event.order_id = "e" * 128, "o" * 128  # the longest ids the contract allows
    attributes = {"ecom_contract": "ecom.events.v1.OrderEvent"}
    return PubsubRecord(event.SerializeToString(), attributes, "long-order", "2025-12-01T12:00:05Z")


@pytest.mark.parametrize("method", METHODS)
def test_an_order_with_a_128_character_id_lands_whole(
    method: str, bigquery_project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Its lines are keyed ``order_id|n`` (130 characters): the insert ids stay within 128."""
    sent_ids: list[str] = []
    insert = bigquery.Client.insert_rows_json

    def recording(self: Any, table: Any, rows: Any, **kwargs: Any) -> Any:
        sent_ids.extend(kwargs["row_ids"])
        return insert(self, table, rows, **kwargs)

    monkeypatch.setattr(bigquery.Client, "insert_rows_json", recording)
    client = _warehouse(bigquery_project)
    source = tmp_path / "order.ndjson"
    source.write_text(_long_order().to_json() + "\n")
    _replay(bigquery_project, method, str(source), tmp_path / "dead_letters")
    assert _letters(tmp_path / "dead_letters") == []
    counts = {
        table: next(iter(client.query(f"SELECT COUNT(*) FROM events.{table}").result()))[0]
        for table in ("fact_order_header", "fact_order_item", "fact_order")
    }
    assert counts == {"fact_order_header": 1, "fact_order_item": 3, "fact_order": 3}
    keys = client.query("SELECT line_key FROM events.fact_order_item ORDER BY 1").result()
    assert [row[0] for row in keys] == [f"{'o' * 128}|{n}" for n in (1, 2, 3)]
    if method == "streaming_inserts":
        assert len(sent_ids) == 7
        assert max(len(sent) for sent in sent_ids) == 128  # the header's event id, as it is
        assert sum(sent.startswith("sha256:") for sent in sent_ids) == 6  # the 130-char lines
    else:
        assert sent_ids == []  # no insert ids on the Storage Write API


def _sink(method: str, project: str, **retries: Any) -> WarehouseSinkFn:
    if method == "streaming_inserts":
        return InsertRowsFn(project, "events", **retries)
    return AppendRowsFn(project, "events", **retries)


def _inventory_row(event_id: str, **changes: Any) -> FactRow:
    golden = json.loads((GOLDEN / "expected" / "fact_inventory.ndjson").read_text().splitlines()[0])
    return FactRow("fact_inventory", event_id, {**golden, "event_id": event_id, **changes})


def _bundle(fn: WarehouseSinkFn, messages: list[MessageRows]) -> list[dict[str, Any]]:
    """Write ``messages`` in one bundle; return the dead letters emitted (as dicts)."""
    fn.start_bundle()
    lines = [line for message in messages for _, line in fn.process([message])]
    lines += [value.value[1] for value in fn.finish_bundle()]
    return [json.loads(line.line) for line in lines]


@pytest.mark.parametrize("method", METHODS)
def test_a_row_the_emulator_refuses_is_one_dead_letter_of_its_message(
    method: str, bigquery_project: str
):
    client = _warehouse(bigquery_project)
    fn = _sink(method, bigquery_project)
    fn.setup()
    bad = (
        [_inventory_row("bad-ok"), _inventory_row("bad", warehouse_id=None)],  # REQUIRED, null
        PubsubRecord(b"bad", {}, "msg-bad"),
    )
    good = [([_inventory_row(k)], PubsubRecord(k.encode(), {}, f"msg-{k}")) for k in "ab"]
    letters = _bundle(fn, [good[0], bad, good[1]])
    fn.teardown()
    assert [(d["messageId"], d["reason"]) for d in letters] == [("msg-bad", "REASON_SINK_REJECTED")]
    assert "fact_inventory row (bad)" in letters[0]["detail"]
    assert "warehouse_id" in letters[0]["detail"]
    landed = client.query("SELECT event_id FROM events.fact_inventory ORDER BY 1").result()
    # The message is dead-lettered whole; its other row stays (the views absorb a replay).
    assert [row[0] for row in landed] == ["a", "b", "bad-ok"]


def _golden_messages() -> list[MessageRows]:
    lines = (GOLDEN / "input.ndjson").read_text().splitlines()
    records = [PubsubRecord.from_json(line) for line in lines]
    outcomes = [(process(record).rows, record) for record in records]
    return [(list(rows), record) for rows, record in outcomes if rows]


@pytest.mark.parametrize("method", METHODS)
def test_an_outage_mid_run_dead_letters_the_batch_and_a_replay_completes_the_tables(
    method: str, bigquery_emulator: BigQueryEmulator, bigquery_project: str, tmp_path: Path
):
    """Halted between two bundles: the second is dead-lettered (bounded), its replay completes.

    The sink's clients (and the Storage Write connection) were made while the
    emulator answered; halting it refuses their connections, which each
    client reports its own way (``requests``' ConnectionError, gRPC
    UNAVAILABLE). After it is back, the dead-letter records are replayed as
    they stand and the tables hold every golden row once in their views.
    """
    client = _warehouse(bigquery_project)
    messages = _golden_messages()
    fn = _sink(method, bigquery_project, max_attempts=3, base_delay=0.05, request_timeout=5.0)
    fn.setup()
    half = len(messages) // 2
    assert _bundle(fn, messages[:half]) == []
    bigquery_emulator.halt()
    try:
        started = time.monotonic()
        letters = _bundle(fn, messages[half:])
        elapsed = time.monotonic() - started
    finally:
        bigquery_emulator.start()
    fn.teardown()
    second = {record.message_id for _, record in messages[half:]}
    assert {d["messageId"] for d in letters} == second
    assert {d["reason"] for d in letters} == {"REASON_SINK_UNAVAILABLE"}
    assert all("failed 3 time(s)" in d["detail"] for d in letters)
    tables = len({row.table for rows, _ in messages[half:] for row in rows})
    assert elapsed < tables * fn.retries.longest_wait(5.0)  # type: ignore[attr-defined]

    replay = tmp_path / "dead_letters.ndjson"
    replay.write_text("".join(json.dumps(d) + "\n" for d in letters))
    assert PubsubRecord.from_json(replay.read_text().splitlines()[0]).data == base64.b64decode(
        letters[0]["data"]
    )
    _replay(bigquery_project, method, str(replay), tmp_path / "replayed")
    assert _letters(tmp_path / "replayed") == []
    _assert_tables_are_the_golden_rows(client)
    for table in TABLES:
        key = KEY_COLUMNS[table]
        once = client.query(
            f"SELECT {key} FROM events.{table}_dedup GROUP BY {key} HAVING COUNT(*) > 1"
        ).result()
        assert list(once) == [], table
