"""``python -m ops.deadletters``: dead letters grouped, counted, dated, with a masked example."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import text_format, timestamp_pb2

import ecom_contracts
from ecom_contracts_pb.events.v1 import order_event_pb2
from ops.deadletters import main
from pipeline.deadletter import dead_letter, set_rfc3339, to_json_line
from pipeline.errors import MalformedPayloadError, RuleViolationError
from pipeline.record import PubsubRecord
from pipeline.route import route
from pipeline.validate import collect_violations

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "contract" / "cases" / "order_event"
ORDER = {"ecom_contract": "ecom.events.v1.OrderEvent"}


def _invalid_order(message_id: str, revision: str = "") -> tuple[PubsubRecord, RuleViolationError]:
    event = text_format.Parse(
        (CASES / "valid_three_items.textproto").read_text(), order_event_pb2.OrderEvent()
    )
    event.customer.email = "not-an-address"
    attributes = {**ORDER, "ecom_revision": revision} if revision else ORDER
    record = PubsubRecord(event.SerializeToString(), attributes, message_id)
    return record, RuleViolationError(ecom_contracts.InvalidEventError(collect_violations(event)))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    lines = []
    sent = [("m1", "r1"), ("m2", ""), ("m2", "")]  # m2 failed twice, from an older producer
    for minute, (message_id, revision) in enumerate(sent):
        record, error = _invalid_order(message_id, revision)
        at = dt.datetime(2025, 12, 1, 10, minute, tzinfo=dt.UTC)
        lines.append(to_json_line(dead_letter(record, error, route(record), failed_at=at)))
    garbage = PubsubRecord(b"\xff\xff", ORDER, "m3")
    lines.append(
        to_json_line(
            dead_letter(
                garbage,
                MalformedPayloadError(
                    ecom_contracts.DecodeError("not a binary ecom.events.v1.OrderEvent")
                ),
                route(garbage),
                failed_at=dt.datetime(2025, 12, 1, 11, tzinfo=dt.UTC),
            )
        )
    )
    (tmp_path / "dead-letters-a.ndjson").write_text("\n".join(lines[:2]) + "\n")
    (tmp_path / "dead-letters-b.ndjson").write_text("\n".join(lines[2:]) + "\n")
    return tmp_path


def _groups(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["groups"]
    return groups


def test_groups_by_reason_contract_revision_field_and_rule(
    folder: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["--source", str(folder), "--json"]) == 0
    groups = _groups(capsys)
    invalid, decode = groups
    assert (invalid["reason"], invalid["contract"], invalid["revision"]) == (
        "invalid",
        "ecom.events.v1.OrderEvent",
        "r1",
    )
    assert (invalid["field_path"], invalid["rule"]) == ("customer.email", "string.email")
    assert (invalid["records"], invalid["messages"]) == (3, 2)
    assert invalid["first_failure"] == "2025-12-01T10:00:00Z"
    assert invalid["last_failure"] == "2025-12-01T10:02:00Z"
    assert invalid["published_as"] == {"(not said)": 2, "r1": 1}
    assert (decode["reason"], decode["records"]) == ("decode_error", 1)
    assert "payload" not in invalid["example"]  # payloads only when asked


def test_payloads_when_asked_with_pii_masked(folder: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["--source", str(folder), "--json", "--payloads"]) == 0
    invalid, decode = _groups(capsys)
    payload = invalid["example"]["payload"]
    assert payload["customer"]["email"] == "***"
    assert payload["customer"]["name"] == "***"
    assert payload["shipping_address"]["street"] == "***"
    assert payload["shipping_address"]["city"] != "***"  # not personal data
    assert payload["customer"]["customer_id"] != "***"
    assert decode["example"]["payload"] == "(2 bytes; not a ecom.events.v1.OrderEvent)"
    assert "not-an-address" not in json.dumps(invalid)


def test_text_summary_and_usage_errors(
    folder: Path, tmp_path_factory: pytest.TempPathFactory, capsys
):
    assert main(["--source", str(folder)]) == 0
    out = capsys.readouterr().out
    assert (
        "3 records        2 messages  invalid  ecom.events.v1.OrderEvent r1 customer.email" in out
    )
    assert "failed from 2025-12-01T10:00:00Z to 2025-12-01T10:02:00Z" in out
    empty = tmp_path_factory.mktemp("empty")
    assert main(["--source", str(empty)]) == 2
    assert "no dead-letter files (*.ndjson) under" in capsys.readouterr().err


_RFC3339_CASES = [
    "2025-12-01T00:00:00Z",
    "2025-12-01T00:00:00.5Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999999Z",
    "1969-12-31T23:59:59.000000001Z",
    "2025-02-30T00:00:00Z",  # no such day
    "2025-12-01T24:00:00Z",
    "2025-12-01T00:00:60Z",
    "2025-12-01T00:00:00.1234567891Z",  # ten fractional digits
    "2025-12-01T00:00:00.Z",
    "2025-12-01T00:00:00+01:00",  # an offset: FromJsonString's own path
    "2025-12-01t00:00:00Z",
    "2025-1-01T00:00:00Z",
    "",
    "not a time",
]


@pytest.mark.parametrize("text", _RFC3339_CASES)
def test_publish_times_are_read_as_timestamp_from_json_string_reads_them(text: str):
    def read(setter: Any) -> tuple[object, ...]:
        timestamp = timestamp_pb2.Timestamp()
        try:
            setter(timestamp, text)
        except ValueError as error:
            return ("error", str(error))
        return (timestamp.seconds, timestamp.nanos)

    assert read(set_rfc3339) == read(lambda t, x: t.FromJsonString(x))
