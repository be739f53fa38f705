"""The warehouse sinks: idempotent by row key, refused rows dead-lettered, transient errors retried.

BigQuery cannot be reached from here, so its client is replaced by a fake at
the ``insert_rows_json`` boundary (the only call the sink makes); everything
around it is the real DoFn on the DirectRunner. DuckDB is the real database.
"""

from __future__ import annotations

import hashlib
import json
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import apache_beam as beam
import duckdb
import google.auth.exceptions
import pytest
import requests
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from google.api_core import exceptions

from pipeline import endpoints
from pipeline.model import FactRow
from pipeline.record import MessageRows, PubsubRecord
from pipeline.sinks.bigquery import InsertRowsFn, WriteWithStreamingInserts, insert_id
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


def _element(key: str, **overrides: Any) -> list[MessageRows]:
    """One processed message with one row, as ProcessMessages emits it (a list of one)."""
    return [([_row(key, **overrides)], PubsubRecord(key.encode(), {"k": key}, f"msg-{key}"))]


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
        retry: Any,
        timeout: float,
    ) -> Sequence[dict[str, Any]]:
        assert skip_invalid_rows
        assert retry is None  # the sink's loop is the retry policy
        assert timeout > 0
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


def _run_bigquery(elements: list[list[MessageRows]]) -> None:
    """Write ``elements``; assert that exactly the message ``msg-bad`` is dead-lettered."""
    with TestPipeline() as pipeline:
        refused = (
            pipeline
            | beam.Create(elements)
            | WriteWithStreamingInserts("proj", "events", client_factory=_fake)
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


def _unavailable(fn: InsertRowsFn, *keys: str) -> list[dict[str, Any]]:
    """Process messages ``keys`` in one bundle; return the dead letters it emitted."""
    fn.start_bundle()
    for key in keys:
        list(fn.process(_element(key)))
    return [json.loads(value.value[1][0]) for value in fn.finish_bundle()]


@pytest.mark.parametrize(
    "failure",
    [
        TimeoutError("slow"),
        exceptions.ServiceUnavailable("try later"),
        exceptions.NotFound("Table proj:events.fact_inventory not found"),
        exceptions.Forbidden("Access Denied: Table proj:events.fact_inventory"),
    ],
    ids=["timeout", "503", "404-table-missing", "403-permission-denied"],
)
def test_bigquery_errors_that_persist_become_sink_unavailable_dead_letters(failure: Exception):
    fn = InsertRowsFn("proj", "events", client_factory=_fake, max_attempts=3, base_delay=0)
    fn.setup()
    FakeBigQuery.script = [failure] * 3
    letters = _unavailable(fn, "a", "b")
    assert len(FakeBigQuery.calls) == 3  # bounded: retried, then given up
    assert sorted(letter["messageId"] for letter in letters) == ["msg-a", "msg-b"]
    assert {letter["reason"] for letter in letters} == {"REASON_SINK_UNAVAILABLE"}
    assert all("failed 3 time(s)" in letter["detail"] for letter in letters)


def test_bigquery_while_a_table_is_unavailable_later_batches_try_once():
    fn = InsertRowsFn("proj", "events", client_factory=_fake, max_attempts=3, base_delay=0)
    fn.setup()
    FakeBigQuery.script = [exceptions.NotFound("no table")] * 4
    assert len(_unavailable(fn, "a")) == 1
    assert len(_unavailable(fn, "b")) == 1
    assert len(FakeBigQuery.calls) == 4  # 3 attempts, then 1 while held
    assert _unavailable(fn, "c") == []  # the table is back: written, nothing dead-lettered
    assert FakeBigQuery.calls[-1] == ("proj.events.fact_inventory", ["c"])


def test_bigquery_only_unwritten_messages_are_dead_lettered():
    # Row "a" lands at once; "b" keeps failing transiently: only "b" is dead-lettered.
    def keep_failing_b(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"index": i, "errors": [{"reason": "backendError"}]}
            for i, row in enumerate(rows)
            if row["event_id"] == "b"
        ]

    fn = InsertRowsFn("proj", "events", client_factory=_fake, max_attempts=2, base_delay=0)
    fn.setup()
    FakeBigQuery.script = [keep_failing_b, keep_failing_b]
    letters = _unavailable(fn, "a", "b")
    assert [letter["messageId"] for letter in letters] == ["msg-b"]


def test_bigquery_programming_errors_are_not_swallowed():
    fn = InsertRowsFn("proj", "events", client_factory=_fake, base_delay=0)
    fn.setup()
    fn.start_bundle()
    FakeBigQuery.script = [KeyError("a bug in the sink")]
    list(fn.process(_element("a")))
    with pytest.raises(KeyError):
        list(fn.finish_bundle())


class RecordingHttp:
    """The BigQuery client's HTTP boundary (``Client._call_api``): records the JSON it is sent.

    The real ``google.cloud.bigquery.Client`` builds the request (this is the
    JSON ``tabledata.insertAll`` receives); nothing local can answer it, so the
    answer is scripted here.
    """

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.requests: list[dict[str, Any]] = []

    def __call__(self, retry: Any, **kwargs: Any) -> Any:
        self.requests.append({"method": kwargs["method"], "path": kwargs["path"], **kwargs})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _real_client(http: RecordingHttp) -> Any:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(project="proj", credentials=AnonymousCredentials())
    client._call_api = http  # type: ignore[method-assign,assignment]
    return client


def test_bigquery_real_client_request_and_answers():
    http = RecordingHttp(
        [
            {"insertErrors": [{"index": 1, "errors": [{"reason": "invalid", "message": "x"}]}]},
            exceptions.NotFound("Not found: Table proj:events.fact_inventory"),
        ]
    )
    fn = InsertRowsFn("proj", "events", client_factory=lambda _: _real_client(http), max_attempts=1)
    fn.setup()
    rejected = _unavailable(fn, "a", "bad")
    (request,) = http.requests
    assert request["method"] == "POST"
    assert request["path"] == "/projects/proj/datasets/events/tables/fact_inventory/insertAll"
    body = request["data"]
    assert [row["insertId"] for row in body["rows"]] == ["a", "bad"]
    assert body["rows"][0]["json"]["event_id"] == "a"
    assert body["skipInvalidRows"] is True
    assert [(r["messageId"], r["reason"]) for r in rejected] == [
        ("msg-bad", "REASON_SINK_REJECTED")
    ]
    unavailable = _unavailable(fn, "c")
    assert [(r["messageId"], r["reason"]) for r in unavailable] == [
        ("msg-c", "REASON_SINK_UNAVAILABLE")
    ]
    assert "Not found: Table" in unavailable[0]["detail"]


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


def test_bigquery_the_client_librarys_own_retry_is_off_so_the_bound_holds():
    # At the client's HTTP connection: with the library's default retry on, a 503 would
    # be retried (with sleeps) for up to ten minutes inside one call.
    calls: list[dict[str, Any]] = []

    def api_request(**kwargs: Any) -> Any:
        calls.append(kwargs)
        raise exceptions.ServiceUnavailable("try later")

    def client(_: str) -> Any:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        real = bigquery.Client(project="proj", credentials=AnonymousCredentials())
        real._connection.api_request = api_request  # type: ignore[method-assign,assignment]
        return real

    fn = InsertRowsFn("proj", "events", client_factory=client, max_attempts=2, base_delay=0)
    fn.setup()
    letters = _unavailable(fn, "a")
    assert [letter["reason"] for letter in letters] == ["REASON_SINK_UNAVAILABLE"]
    assert len(calls) == 2  # one request per attempt, none hidden in the library
    assert all(call["timeout"] == 20.0 for call in calls)


def test_bigquery_rows_refused_before_an_outage_keep_their_reason():
    def refuse_bad_then_fail(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "index": i,
                "errors": [{"reason": "invalid" if row["event_id"] == "bad" else "backendError"}],
            }
            for i, row in enumerate(rows)
            if row["event_id"] != "a"
        ]

    fn = InsertRowsFn("proj", "events", client_factory=_fake, max_attempts=2, base_delay=0)
    fn.setup()
    FakeBigQuery.script = [refuse_bad_then_fail, exceptions.ServiceUnavailable("down")]
    letters = _unavailable(fn, "a", "bad", "b")
    assert sorted((letter["messageId"], letter["reason"]) for letter in letters) == [
        ("msg-b", "REASON_SINK_UNAVAILABLE"),  # never written: replay it
        ("msg-bad", "REASON_SINK_REJECTED"),  # refused: a replay would be refused again
    ]


# BigQuery's limits and transport failures ----------------------------------------------------


def test_bigquery_insert_ids_are_at_most_128_characters_and_the_same_on_every_retry():
    """Client boundary: local-bigquery does not enforce insertAll's 128-character insert ids."""
    order_id = "o" * 128  # the longest order id the contract allows
    long_key = f"{order_id}|1"
    row = FactRow("fact_order_item", long_key, {"line_key": long_key, "order_id": order_id})
    element: list[MessageRows] = [([row], PubsubRecord(b"o", {}, "msg-o"))]
    FakeBigQuery.script = [exceptions.ServiceUnavailable("try later"), lambda rows: []]
    fn = InsertRowsFn("proj", "events", client_factory=_fake, base_delay=0)
    fn.setup()
    fn.start_bundle()
    list(fn.process(element))
    assert list(fn.finish_bundle()) == []
    (_, first), (_, second) = FakeBigQuery.calls
    assert first == second == [insert_id(long_key)]
    assert len(first[0]) <= 128
    assert first[0] == "sha256:" + hashlib.sha256(long_key.encode()).hexdigest()
    assert insert_id(order_id) == order_id  # 128 characters are sent as they are
    assert insert_id("é" * 65) != "é" * 65  # 130 bytes: digested too


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectionError("Connection refused"),
        requests.exceptions.ReadTimeout("Read timed out"),
        requests.exceptions.ChunkedEncodingError("Connection broken"),
        google.auth.exceptions.TransportError("metadata server unreachable"),
        exceptions.RetryError("gave up", cause=None),
        ConnectionResetError("reset by peer"),
    ],
    ids=["requests-connection", "requests-timeout", "requests-chunked", "auth-transport",
         "retry-error", "builtin-connection"],
)  # fmt: skip
def test_bigquery_transport_failures_are_unavailability_not_a_failed_bundle(failure: Exception):
    fn = InsertRowsFn("proj", "events", client_factory=_fake, max_attempts=2, base_delay=0)
    fn.setup()
    FakeBigQuery.script = [failure] * 2
    letters = _unavailable(fn, "a")
    assert [letter["reason"] for letter in letters] == ["REASON_SINK_UNAVAILABLE"]
    assert len(FakeBigQuery.calls) == 2


def test_bigquery_unreachable_endpoint_dead_letters_within_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
):
    # The real client on a port nothing listens on: requests' ConnectionError, the outage the
    # issue reported (a bounded replay stopped with a traceback instead of dead letters).
    monkeypatch.setenv(endpoints.BIGQUERY_EMULATOR_HOST, f"127.0.0.1:{_closed_port()}")
    fn = InsertRowsFn("proj", "events", max_attempts=3, base_delay=0.01, request_timeout=2.0)
    fn.setup()
    started = time.monotonic()
    letters = _unavailable(fn, "a", "b")
    elapsed = time.monotonic() - started
    assert sorted((d["messageId"], d["reason"]) for d in letters) == [
        ("msg-a", "REASON_SINK_UNAVAILABLE"),
        ("msg-b", "REASON_SINK_UNAVAILABLE"),
    ]
    assert "ConnectionError" in letters[0]["detail"]
    assert elapsed < fn.retries.longest_wait(fn.request_timeout)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_bigquery_requests_stay_within_500_rows_and_10_mb_and_a_row_over_it_is_a_dead_letter():
    """Client boundary: local-bigquery enforces neither insertAll's 500 rows nor its 10 MB.

    The real client builds each request; its JSON body (as the client
    serializes it) is measured here.
    """
    rows = [_element(f"s{i}") for i in range(1_100)]
    rows += [_element(f"b{i}", product_id="p" * 2_000_000) for i in range(9)]
    rows += [_element("huge", product_id="p" * 10_000_000)]
    http = RecordingHttp([{}] * 10)
    fn = InsertRowsFn("proj", "events", client_factory=lambda _: _real_client(http))
    fn.setup()
    fn.start_bundle()
    letters = [line for element in rows for _, line in fn.process(element)]
    letters += [value.value[1] for value in fn.finish_bundle()]
    refused = [json.loads(letter.line) for letter in letters]
    assert [(d["messageId"], d["reason"]) for d in refused] == [
        ("msg-huge", "REASON_SINK_REJECTED")
    ]
    assert "over the 9,934,464-byte budget of one request" in refused[0]["detail"]
    bodies = [request["data"] for request in http.requests]
    assert all(len(body["rows"]) <= 500 for body in bodies)
    assert all(len(json.dumps(body)) <= 10_000_000 for body in bodies)
    sent = sorted(row["json"]["event_id"] for body in bodies for row in body["rows"])
    assert sent == sorted([f"s{i}" for i in range(1_100)] + [f"b{i}" for i in range(9)])
    # Cut by rows (500, 500), then by bytes: 100 small and four 2 MB rows, four, one.
    assert [len(body["rows"]) for body in bodies] == [500, 500, 104, 4, 1]


def test_the_local_warehouse_can_be_queried_while_the_sink_holds_it(tmp_path: Path):
    """A local run and make bench query the file in the sink's process: same configuration."""
    from pipeline.sinks.duckdb import InsertDuckDBFn

    path = str(tmp_path / "w.duckdb")
    InsertDuckDBFn.connection(path)
    with duckdb.connect(path) as reader:
        assert reader.execute("SELECT count(*) FROM events.fact_inventory").fetchone() == (0,)
