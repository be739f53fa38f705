"""The Storage Write API path: proto rows from the fact contracts, refusals, outages, request sizes.

The rows' descriptor and values are checked against the generated schemas
and the golden rows. The sink (``AppendRowsFn``) is the real DoFn; only its
AppendRows connection is a fake here (what BigQuery answers is scripted), so
these tests cover how answers map back to messages. The connection itself
talks real gRPC to a local server in ``test_append_rows_connection_*``, and
the whole path runs on the BigQuery emulator in
``tests/integration/test_bigquery_sinks.py``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from concurrent import futures
from pathlib import Path
from typing import Any, ClassVar

import grpc
import pytest
import requests
from google.api_core import exceptions
from google.cloud.bigquery_storage_v1 import types
from google.protobuf import json_format

from ecom_warehouse.artifacts import WAREHOUSE_TABLES
from pipeline.errors import SinkRejectedError
from pipeline.model import TABLES, FactRow
from pipeline.record import MessageRows, PubsubRecord
from pipeline.sinks import bigquery_storage
from pipeline.sinks.append_rows import AppendRowsConnection
from pipeline.sinks.bigquery_storage import AppendRowsFn, WriteWithStorageApi
from pipeline.sinks.proto_rows import ProtoRowFormat, proto_row_format

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "expected"
Field = dict[str, Any]


def _golden(table: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (GOLDEN / f"{table}.ndjson").read_text().splitlines()]


# The descriptor and the values ---------------------------------------------------------------

WIRE = {"STRING": "TYPE_STRING", "INTEGER": "TYPE_INT64", "NUMERIC": "TYPE_STRING",
        "DATE": "TYPE_INT32", "TIMESTAMP": "TYPE_INT64"}  # fmt: skip


@pytest.mark.parametrize("table", TABLES)
def test_the_descriptor_is_the_tables_generated_schema(table: str):
    schema = WAREHOUSE_TABLES[table]["api"]["schema"]["fields"]
    descriptor = proto_row_format(table).descriptor
    assert descriptor.name == table
    assert [f.name for f in descriptor.field] == [column["name"] for column in schema]
    assert [f.number for f in descriptor.field] == list(range(1, len(schema) + 1))
    for field, column in zip(descriptor.field, schema, strict=True):
        assert field.Type.Name(field.type) == WIRE[column["type"]], column["name"]
        assert field.Label.Name(field.label) == "LABEL_OPTIONAL"
    assert "ingestion_timestamp" in [f.name for f in descriptor.field]


def test_records_are_nested_messages_and_repeated_columns_repeated_fields():
    fields: list[Field] = [
        {"name": "id", "type": "STRING", "mode": "REQUIRED"},
        {"name": "tags", "type": "STRING", "mode": "REPEATED"},
        {"name": "ship_to", "type": "RECORD", "mode": "NULLABLE", "fields": [
            {"name": "city", "type": "STRING", "mode": "NULLABLE"},
            {"name": "lines", "type": "RECORD", "mode": "REPEATED", "fields": [
                {"name": "price", "type": "NUMERIC", "mode": "NULLABLE"},
                {"name": "day", "type": "DATE", "mode": "NULLABLE"},
            ]},
        ]},
    ]  # fmt: skip
    rows = ProtoRowFormat("nested_table", fields)
    (record,) = rows.descriptor.nested_type
    assert (record.name, record.nested_type[0].name) == ("ShipToRecord", "LinesRecord")
    by_name = {f.name: f for f in rows.descriptor.field}
    assert by_name["tags"].label == by_name["tags"].LABEL_REPEATED
    assert by_name["ship_to"].type_name == "ShipToRecord"  # relative: BigQuery picks the package
    assert record.field[1].label == record.field[1].LABEL_REPEATED
    lines = [{"price": "1.5", "day": "1970-01-03"}]
    row = {"id": "a", "tags": ["x", "y"], "ship_to": {"city": "Oslo", "lines": lines}}
    message = rows.message_class.FromString(rows.encode(row))
    assert json_format.MessageToDict(message, preserving_proto_field_name=True) == {
        "id": "a", "tags": ["x", "y"],
        "ship_to": {"city": "Oslo", "lines": [{"price": "1.5", "day": 2}]},
    }  # fmt: skip
    with pytest.raises(SinkRejectedError, match=r"ship_to: lines: day: not a YYYY-MM-DD date"):
        rows.encode({"id": "a", "ship_to": {"lines": [{"day": "3 Jan"}]}})


def _from_wire(kind: str, value: Any) -> Any:
    if kind == "DATE":
        return (dt.date(1970, 1, 1) + dt.timedelta(days=value)).isoformat()
    if kind == "TIMESTAMP":
        moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=value)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


@pytest.mark.parametrize("table", TABLES)
def test_every_golden_row_becomes_a_message_with_the_same_values(table: str):
    rows = proto_row_format(table)
    kinds = {f["name"]: f["type"] for f in WAREHOUSE_TABLES[table]["api"]["schema"]["fields"]}
    for row in _golden(table):
        message = rows.message_class.FromString(rows.encode(row))
        back = {
            field.name: _from_wire(kinds[field.name], value)
            for field, value in message.ListFields()
        }
        assert back == {name: value for name, value in row.items() if value is not None}
        assert not message.HasField("ingestion_timestamp")  # BigQuery's default fills it


def _inventory(**changes: Any) -> dict[str, Any]:
    return {**_golden("fact_inventory")[0], **changes}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"quantity_change": "twelve"}, "quantity_change: not an integer: 'twelve'"),
        ({"quantity_change": 2**63}, "quantity_change: 9223372036854775808 is outside INT64"),
        ({"quantity_change": True}, "quantity_change: not an integer: True"),
        ({"event_date": "2025-12-1"}, "event_date: not a YYYY-MM-DD date"),
        ({"event_date": "2025-02-30"}, "event_date: 2025-02-30: day is out of range"),
        ({"event_timestamp": "2025-12-01 10:00"}, "event_timestamp: not an RFC 3339 timestamp"),
        ({"event_timestamp": 1764583200}, "event_timestamp: not an RFC 3339 timestamp"),
        ({"warehouse_id": 7}, "warehouse_id: not a string: int"),
        ({"coupon": "X"}, "coupon: no such column"),
        ({"ingestion_timestamp": "yesterday"}, "ingestion_timestamp: not an RFC 3339"),
    ],
)
def test_values_that_cannot_convert_refuse_the_row_with_the_reason(
    changes: dict[str, Any], reason: str
):
    with pytest.raises(SinkRejectedError) as refused:
        proto_row_format("fact_inventory").encode(_inventory(**changes))
    assert str(refused.value).startswith(f"not sent: {reason}")


@pytest.mark.parametrize(
    ("value", "sent"),
    [("12.5", "12.5"), ("0.000000001", "0.000000001"), ("-3", "-3"), (7, "7"), ("1E+2", "100")],
)
def test_numeric_strings_are_sent_exactly(value: Any, sent: str):
    rows = proto_row_format("fact_order_item")
    row = {**_golden("fact_order_item")[0], "unit_price": value}
    assert rows.message_class.FromString(rows.encode(row)).unit_price == sent


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1.0000000001", "has more than 9 decimal places"),
        ("1e29", "is outside NUMERIC"),
        ("NaN", "is not a finite NUMERIC"),
        (12.5, "not a NUMERIC decimal string"),
        ("twelve", "not a NUMERIC decimal string"),
    ],
)
def test_numeric_values_beyond_numeric_are_refused(value: Any, reason: str):
    row = {**_golden("fact_order_item")[0], "total_amount": value}
    with pytest.raises(SinkRejectedError, match=reason):
        proto_row_format("fact_order_item").encode(row)


def test_bytes_and_other_types_convert_as_bigquery_documents():
    fields: list[Field] = [
        {"name": name, "type": kind, "mode": "NULLABLE"}
        for name, kind in [("b", "BYTES"), ("f", "FLOAT"), ("ok", "BOOLEAN"), ("j", "JSON"),
                           ("t", "TIMESTAMP"), ("n", "INT64")]
    ]  # fmt: skip
    rows = ProtoRowFormat("kinds", fields)
    row = {"b": base64.b64encode(b"\x00\xff").decode(), "f": 1, "ok": True, "j": {"a": [1]},
           "t": "2025-12-01T13:00:00+01:00", "n": "-42"}  # fmt: skip
    message = rows.message_class.FromString(rows.encode(row))
    assert (message.b, message.f, message.ok, message.j, message.n) == (
        b"\x00\xff",
        1.0,
        True,
        '{"a": [1]}',
        -42,
    )
    assert message.t == 1764590400 * 1_000_000
    with pytest.raises(SinkRejectedError, match="b: not base64 text"):
        rows.encode({"b": "not base64!"})


# The sink, with its connection scripted ------------------------------------------------------


class FakeConnection:
    """An AppendRows connection whose answers are scripted (shared across pickling)."""

    requests: ClassVar[list[tuple[str, Any]]] = []
    script: ClassVar[list[Any]] = []
    opened: ClassVar[list[str]] = []
    closed: ClassVar[int] = 0

    def __init__(self, client: Any, stream: str) -> None:
        self.stream = stream
        FakeConnection.opened.append(stream)

    def append(self, request: Any, timeout: float) -> Any:
        assert timeout > 0
        message = types.AppendRowsRequest.pb(request)
        FakeConnection.requests.append((self.stream, message))
        if FakeConnection.script:
            step = FakeConnection.script.pop(0)
            if isinstance(step, BaseException):
                raise step
            return step(message)
        return types.AppendRowsResponse(append_result={})

    def close(self) -> None:
        FakeConnection.closed += 1


@pytest.fixture(autouse=True)
def _reset_fake():
    FakeConnection.requests, FakeConnection.script, FakeConnection.opened = [], [], []
    FakeConnection.closed = 0


def _sink(**kwargs: Any) -> AppendRowsFn:
    options = {"max_attempts": 3, "base_delay": 0.0, **kwargs}
    fn = AppendRowsFn(
        "proj", "events", client_factory=object, connection_factory=FakeConnection, **options
    )
    fn.setup()
    return fn


def _message(key: str, *rows: dict[str, Any]) -> MessageRows:
    facts = [FactRow("fact_inventory", row["event_id"], row) for row in rows]
    return facts, PubsubRecord(key.encode(), {"k": key}, f"msg-{key}")


def _bundle(fn: AppendRowsFn, *messages: MessageRows) -> list[Any]:
    """Process ``messages`` in one bundle; return the dead letters emitted (as dicts)."""
    fn.start_bundle()
    letters = [line for message in messages for _, line in fn.process([message])]
    letters += [value.value[1] for value in fn.finish_bundle()]
    return [json.loads(letter.line) for letter in letters]


def _sent(message: Any) -> list[str]:
    rows = proto_row_format("fact_inventory")
    return [
        rows.message_class.FromString(r).event_id for r in message.proto_rows.rows.serialized_rows
    ]


def refuse(*event_ids: str, code: int = 3) -> Any:
    """An answer refusing the rows ``event_ids`` of the request (nothing is appended)."""

    def answer(request: Any) -> Any:
        sent = _sent(request)
        return types.AppendRowsResponse(
            error={"code": code, "message": "Rows are invalid"},
            row_errors=[
                {"index": sent.index(e), "code": 1, "message": f"{e} is bad"} for e in event_ids
            ],
        )

    return answer


def test_requests_name_the_default_stream_carry_the_descriptor_and_ask_for_defaults():
    letters = _bundle(_sink(), _message("a", _inventory(event_id="a")))
    assert letters == []
    ((stream, request),) = FakeConnection.requests
    assert stream == "projects/proj/datasets/events/tables/fact_inventory/streams/_default"
    assert request.write_stream == stream
    assert request.proto_rows.writer_schema.proto_descriptor == (
        proto_row_format("fact_inventory").descriptor
    )
    assert request.default_missing_value_interpretation == (
        types.AppendRowsRequest.MissingValueInterpretation.DEFAULT_VALUE
    )
    assert _sent(request) == ["a"]


def test_refused_rows_are_dead_letters_of_their_message_and_the_rest_is_sent_again():
    FakeConnection.script = [refuse("bad-1", "bad-2")]
    letters = _bundle(
        _sink(),
        _message("a", _inventory(event_id="a")),
        _message("bad", _inventory(event_id="bad-1"), _inventory(event_id="bad-2")),
        _message("b", _inventory(event_id="b")),
    )
    assert [(d["messageId"], d["reason"]) for d in letters] == [("msg-bad", "REASON_SINK_REJECTED")]
    assert "FIELDS_ERROR: bad-1 is bad" in letters[0]["detail"]
    assert [_sent(request) for _, request in FakeConnection.requests] == [
        ["a", "bad-1", "bad-2", "b"],
        ["a", "b"],  # the request appended nothing: the others again, without the refused
    ]


def test_a_row_that_cannot_convert_is_refused_before_sending_and_its_message_dead_lettered():
    letters = _bundle(
        _sink(),
        _message("a", _inventory(event_id="a")),
        _message("bad", _inventory(event_id="bad-ok"), _inventory(event_id="bad", reason=3)),
    )
    assert [(d["messageId"], d["reason"]) for d in letters] == [("msg-bad", "REASON_SINK_REJECTED")]
    assert letters[0]["detail"] == (
        "BigQuery (Storage Write API) refused a fact_inventory row (bad): "
        "not sent: reason: not a string: int"
    )
    assert [_sent(request) for _, request in FakeConnection.requests] == [["a", "bad-ok"]]


@pytest.mark.parametrize(
    "failure",
    [
        exceptions.ServiceUnavailable("failed to connect to all addresses"),
        exceptions.DeadlineExceeded("no answer to AppendRows within 20 s"),
        exceptions.NotFound("Table events.fact_inventory not found"),
        exceptions.PermissionDenied("bigquery.tables.updateData denied"),
        requests.exceptions.ConnectionError("refused"),
        TimeoutError("slow"),
        lambda request: types.AppendRowsResponse(error={"code": 14, "message": "try later"}),
    ],
    ids=["unavailable", "deadline", "404-table-missing", "403", "requests", "timeout", "status"],
)
def test_failures_that_persist_become_sink_unavailable_after_bounded_attempts(failure: Any):
    FakeConnection.script = [failure] * 3
    letters = _bundle(
        _sink(), _message("a", _inventory(event_id="a")), _message("b", _inventory(event_id="b"))
    )
    assert len(FakeConnection.requests) == 3
    assert sorted((d["messageId"], d["reason"]) for d in letters) == [
        ("msg-a", "REASON_SINK_UNAVAILABLE"),
        ("msg-b", "REASON_SINK_UNAVAILABLE"),
    ]
    assert all("failed 3 time(s)" in d["detail"] for d in letters)


def test_a_failure_then_success_writes_everything_with_backoff_between():
    FakeConnection.script = [exceptions.ServiceUnavailable("blip")]
    sleeps: list[float] = []
    fn = _sink(base_delay=0.25)
    fn.retries.sleep = sleeps.append
    assert _bundle(fn, _message("a", _inventory(event_id="a"))) == []
    assert len(FakeConnection.requests) == 2
    assert len(sleeps) == 1
    assert 0.25 <= sleeps[0] <= 0.375


def test_while_a_table_is_unavailable_later_batches_try_once():
    FakeConnection.script = [exceptions.ServiceUnavailable("down")] * 4
    fn = _sink()
    assert len(_bundle(fn, _message("a", _inventory(event_id="a")))) == 1
    assert len(_bundle(fn, _message("b", _inventory(event_id="b")))) == 1
    assert len(FakeConnection.requests) == 4  # 3 attempts, then 1 while held
    assert _bundle(fn, _message("c", _inventory(event_id="c"))) == []  # back: written
    assert len(FakeConnection.opened) == 1  # one connection per table, kept across bundles


def test_rows_refused_before_an_outage_keep_their_reason():
    FakeConnection.script = [refuse("bad"), exceptions.ServiceUnavailable("down")]
    letters = _bundle(
        _sink(max_attempts=1),
        _message("a", _inventory(event_id="a")),
        _message("bad", _inventory(event_id="bad")),
    )
    assert sorted((d["messageId"], d["reason"]) for d in letters) == [
        ("msg-a", "REASON_SINK_UNAVAILABLE"),
        ("msg-bad", "REASON_SINK_REJECTED"),
    ]


def test_programming_errors_fail_the_bundle():
    FakeConnection.script = [KeyError("a bug in the sink")]
    with pytest.raises(KeyError):
        _bundle(_sink(), _message("a", _inventory(event_id="a")))


def test_teardown_closes_the_connections_and_the_clients_channel():
    closed: list[str] = []

    class Transport:
        def close(self) -> None:
            closed.append("channel")

    class Client:
        transport = Transport()

    fn = AppendRowsFn("proj", "events", client_factory=Client, connection_factory=FakeConnection)
    fn.setup()
    _bundle(fn, _message("a", _inventory(event_id="a")))
    fn.teardown()
    assert (FakeConnection.closed, closed) == (1, ["channel"])


def test_the_transform_builds_every_tables_format_when_the_job_is_built(
    monkeypatch: pytest.MonkeyPatch,
):
    def unsupported(table: str) -> Any:
        raise ValueError(f"{table}.x: RANGE columns are not written by the pipeline")

    monkeypatch.setattr(bigquery_storage, "proto_row_format", unsupported)
    with pytest.raises(ValueError, match="RANGE columns"):
        WriteWithStorageApi("proj", "events")


# Request sizes (client boundary: the emulator does not enforce them) --------------------------


def test_append_requests_stay_under_10_mb_and_a_row_over_it_is_a_dead_letter():
    """Client boundary: local-bigquery does not enforce AppendRows' 10 MB request limit.

    Each request the sink sends is measured as serialized; rows of about 1 MB
    are cut into requests under 10 MB, and a row that alone exceeds a request
    is dead-lettered with its reason, never sent.
    """
    big = [
        _message(f"m{i}", _inventory(event_id=f"e{i}", product_id="p" * 1_000_000))
        for i in range(23)
    ]
    huge = _message("huge", _inventory(event_id="huge", product_id="p" * 10_000_000))
    letters = _bundle(_sink(), *big[:11], huge, *big[11:])
    assert [(d["messageId"], d["reason"]) for d in letters] == [
        ("msg-huge", "REASON_SINK_REJECTED")
    ]
    assert "over the 9,934,464-byte budget of one request" in letters[0]["detail"]
    sizes = [request.ByteSize() for _, request in FakeConnection.requests]
    assert all(size <= 10_000_000 for size in sizes), sizes
    assert len(sizes) == 3  # 23 rows of ~1 MB: as few requests as the limit allows
    sent = [event for _, request in FakeConnection.requests for event in _sent(request)]
    assert sorted(sent) == sorted(f"e{i}" for i in range(23))


# The AppendRows connection, on real gRPC -----------------------------------------------------


class StorageServer:
    """A local gRPC server with BigQuery's AppendRows method: it answers, or it never does."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.calls: list[dict[str, str]] = []
        self.requests: list[Any] = []
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.stream_stream_rpc_method_handler(
            self._append_rows,
            request_deserializer=types.AppendRowsRequest.deserialize,
            response_serializer=types.AppendRowsResponse.serialize,
        )
        self.server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler(
                "google.cloud.bigquery.storage.v1.BigQueryWrite", {"AppendRows": handler}
            )]
        )  # fmt: skip
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def _append_rows(self, requests: Any, context: Any) -> Any:
        self.calls.append(dict(context.invocation_metadata()))
        for request in requests:
            self.requests.append(request)
            if not self.answer:
                time.sleep(30)
                return
            yield types.AppendRowsResponse(append_result={})


def _client(port: int, monkeypatch: pytest.MonkeyPatch) -> Any:
    from pipeline import endpoints

    monkeypatch.setenv(endpoints.BIGQUERY_STORAGE_EMULATOR_HOST, f"127.0.0.1:{port}")
    return endpoints.bigquery_write_client()


def test_append_rows_connection_keeps_one_call_for_many_requests(monkeypatch: pytest.MonkeyPatch):
    server = StorageServer(answer=True)
    try:
        stream = "projects/p/datasets/d/tables/t/streams/_default"
        connection = AppendRowsConnection(_client(server.port, monkeypatch), stream)
        for _ in range(3):
            response = connection.append(types.AppendRowsRequest(write_stream=stream), 5.0)
            assert "append_result" in response
        connection.close()
    finally:
        server.server.stop(None)
    assert len(server.calls) == 1  # one connection for many writes, as Google advises
    assert server.calls[0]["x-goog-request-params"] == f"write_stream={stream}"
    assert len(server.requests) == 3


def test_append_rows_connection_gives_up_on_a_silent_server_within_its_timeout(
    monkeypatch: pytest.MonkeyPatch,
):
    server = StorageServer(answer=False)
    try:
        connection = AppendRowsConnection(_client(server.port, monkeypatch), "s")
        started = time.monotonic()
        with pytest.raises(exceptions.DeadlineExceeded, match=r"within 0\.5 s"):
            connection.append(types.AppendRowsRequest(write_stream="s"), 0.5)
        assert time.monotonic() - started < 5
    finally:
        server.server.stop(None)


def test_append_rows_connection_reports_a_refused_connection_as_unavailable(
    monkeypatch: pytest.MonkeyPatch,
):
    server = StorageServer(answer=True)
    port = server.port
    server.server.stop(None).wait()
    connection = AppendRowsConnection(_client(port, monkeypatch), "s")
    with pytest.raises(exceptions.ServiceUnavailable):
        connection.append(types.AppendRowsRequest(write_stream="s"), 5.0)
