"""``ecom-contracts validate`` and ``check_file``: the producers' check before publishing.

The good and the invalid events are the contracts' own golden cases
(``tests/contract/cases``, each with the violations it must produce), written in
every input format; malformed lines, wrong contracts and unknown fields are the
cases below.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from google.protobuf import json_format, text_format
from google.protobuf.message import Message

import ecom_contracts
from ecom_contracts._cli import main
from ecom_contracts_pb.events.v1 import inventory_event_pb2, order_event_pb2

CASES = Path(__file__).resolve().parents[1] / "contract" / "cases"
FOLDERS = {
    "order_event": "order-event",
    "inventory_event": "inventory-event",
    "user_activity_event": "user-activity-event",
}


def _cases(folder: str) -> list[tuple[Message, set[tuple[str, str]]]]:
    """Return the folder's golden events, each with the (field path, rule id) it breaks."""
    contract = ecom_contracts.contract(FOLDERS[folder])
    cases = []
    for path in sorted((CASES / folder).glob("*.textproto")):
        text = path.read_text()
        expected = set()
        for line in text.splitlines():
            if line.startswith("# expect:"):
                parts = line.removeprefix("# expect:").split()
                expected.add(("", parts[0]) if len(parts) == 1 else (parts[0], parts[1]))
        cases.append((text_format.Parse(text, contract.message()), expected))
    return cases


def _replay(encoded: ecom_contracts.Encoded) -> str:
    return json.dumps(
        {
            "data": base64.b64encode(encoded.data).decode(),
            "attributes": encoded.attributes,
            "messageId": "m-1",
            "publishTime": "2025-12-01T10:00:00Z",
        }
    )


WRITERS: dict[str, tuple[str, Callable[[Message], str]]] = {
    # label: (--format, line of one event)
    "json": ("json", lambda e: json_format.MessageToJson(e, indent=None)),
    "json, auto": ("auto", lambda e: json_format.MessageToJson(e, indent=None)),
    "pubsub-json": (
        "pubsub-json",
        lambda e: ecom_contracts.encode(e, "JSON", validate=False).data.decode(),
    ),
    "replay, binary": ("replay", lambda e: _replay(ecom_contracts.encode(e, validate=False))),
    "replay, binary, auto": ("auto", lambda e: _replay(ecom_contracts.encode(e, validate=False))),
    "replay, JSON payload": (
        "replay",
        lambda e: _replay(ecom_contracts.encode(e, "JSON", validate=False)),
    ),
}


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("folder", FOLDERS)
def test_every_golden_case_is_refused_exactly_for_its_rules(
    folder: str, writer: str, tmp_path: Path
):
    fmt, write = WRITERS[writer]
    cases = _cases(folder)
    path = tmp_path / "events.ndjson"
    path.write_text("".join(write(event) + "\n\n" for event, _ in cases))  # blank lines skipped
    result = ecom_contracts.check_file(path, ecom_contracts.contract(FOLDERS[folder]), fmt)
    assert result.events == len(cases)
    refused = {r.line: r for r in result.refusals}
    for index, (_, expected) in enumerate(cases):
        refusal = refused.get(2 * index + 1)
        if not expected:
            assert refusal is None, refusal
            continue
        assert refusal is not None
        assert refusal.kind == "invalid"
        assert {(v.field_path, v.rule_id) for v in refusal.violations} == expected
    assert result.ok == (not any(expected for _, expected in cases))


def _order() -> order_event_pb2.OrderEvent:
    return text_format.Parse(
        (CASES / "order_event" / "valid_three_items.textproto").read_text(),
        order_event_pb2.OrderEvent(),
    )


def _inventory() -> inventory_event_pb2.InventoryEvent:
    return text_format.Parse(
        (CASES / "inventory_event" / "valid_restock.textproto").read_text(),
        inventory_event_pb2.InventoryEvent(),
    )


ORDER_JSON = json_format.MessageToJson(_order(), indent=None)
ORDER_PUBSUB_JSON = ecom_contracts.encode(_order(), "JSON").data.decode()
ORDER_BINARY = ecom_contracts.encode(_order()).data
NEWER_ITEM = _order()
NEWER_ITEM.items[1].MergeFromString(b"\xa0\x06\x07")  # field 100 of LineItem: not in r1

# label: (line, --format, kind, text the refusal holds); all checked as order-event.
REFUSED = {
    "not JSON": (
        "this is not json",
        "auto",
        "malformed",
        "not a ecom.events.v1.OrderEvent in JSON",
    ),
    "truncated": (ORDER_JSON[:40], "json", "malformed", "in JSON"),
    "unknown field": (
        json.dumps({**json.loads(ORDER_JSON), "coupon": "X"}),
        "auto",
        "unknown_fields",
        "field(s) coupon are not in ecom.events.v1.OrderEvent r1",
    ),
    "unknown nested fields, named by their paths": (
        ORDER_JSON.replace('"customer": {', '"customer": {"tier": 1, ', 1).replace(
            '"productId"', '"sku": "x", "productId"', 1
        ),
        "json",
        "unknown_fields",
        "field(s) customer.tier, items[0].sku are not in",
    ),
    "unknown field, Pub/Sub's JSON shape": (
        json.dumps({**json.loads(ORDER_PUBSUB_JSON), "coupon": "X"}),
        "pubsub-json",
        "unknown_fields",
        "field(s) coupon are not in",
    ),
    "unknown field and a bad value: the bad value": (
        json.dumps({**json.loads(ORDER_JSON), "coupon": "X", "status": "LOST"}),
        "json",
        "malformed",
        "Invalid enum value LOST",
    ),
    "a timestamp without an offset": (
        json.dumps({**json.loads(ORDER_JSON), "eventTimestamp": "2025-12-01T10:00:00"}),
        "json",
        "malformed",
        'eventTimestamp: "2025-12-01T10:00:00" is not an RFC 3339 timestamp with Z or an '
        'offset, for example "2025-12-01T10:00:00Z"',
    ),
    "a string where a message belongs": (
        json.dumps({**json.loads(ORDER_JSON), "customer": "c"}),
        "json",
        "malformed",
        "customer: a ecom.events.v1.Customer (a JSON object {...}) belongs here, "
        'not the string "c"',
    ),
    "null in a list of messages": (
        json.dumps({**json.loads(ORDER_JSON), "items": [None]}),
        "json",
        "malformed",
        "items[0]: null where a ecom.events.v1.LineItem (a JSON object) belongs",
    ),
    "a number where a list belongs": (
        json.dumps({**json.loads(ORDER_JSON), "items": 3}),
        "json",
        "malformed",
        "items: an array of ecom.events.v1.LineItem belongs here, not the number 3",
    ),
    "JSON null for an event": ("null", "auto", "malformed", "JSON object ({...}) of ecom.events"),
    "an empty JSON array": ("[]", "json", "malformed", "not an array"),
    "a JSON string": ('"event"', "pubsub-json", "malformed", 'not the string "event"'),
    "wrong type": (
        json.dumps({**json.loads(ORDER_JSON), "items": "many"}),
        "json",
        "malformed",
        "items",
    ),
    "a JSON array": ("[1, 2]", "auto", "malformed", "not an array"),
    "Pub/Sub's JSON shape read as json": (
        ORDER_PUBSUB_JSON,
        "json",
        "malformed",
        "in the pubsub-json format: --format pubsub-json",
    ),
    "proto3 JSON read as pubsub-json": (
        ORDER_JSON,
        "pubsub-json",
        "malformed",
        "in the json format: --format json",
    ),
    "replay: data not base64": (
        json.dumps({"data": "%%%", "attributes": {}}),
        "auto",
        "malformed",
        "not base64",
    ),
    "replay: attributes not strings": (
        json.dumps({"data": "", "attributes": {"n": 1}}),
        "replay",
        "malformed",
        "must map strings to strings",
    ),
    "replay: not a record": ("{not json", "replay", "malformed", "not a replay record"),
    "replay: unknown encoding": (
        json.dumps({"data": "", "attributes": {"ecom_encoding": "AVRO"}}),
        "auto",
        "malformed",
        "'AVRO' is neither BINARY nor JSON",
    ),
    "replay: bytes that are no event": (
        json.dumps({"data": base64.b64encode(b"\xff\x01").decode()}),
        "auto",
        "malformed",
        "not a binary ecom.events.v1.OrderEvent",
    ),
    "replay: JSON payload not UTF-8": (
        json.dumps(
            {
                "data": base64.b64encode(b"\xff" + ORDER_PUBSUB_JSON.encode()).decode(),
                "attributes": {"ecom_encoding": "JSON"},
            }
        ),
        "auto",
        "malformed",
        "not UTF-8",
    ),
    "another contract's JSON": (
        json_format.MessageToJson(_inventory(), indent=None),
        "auto",
        "wrong_contract",
        "not a ecom.events.v1.OrderEvent but a ecom.events.v1.InventoryEvent "
        "(--contract inventory-event)",
    ),
    "another contract's Pub/Sub JSON": (
        ecom_contracts.encode(_inventory(), "JSON").data.decode(),
        "pubsub-json",
        "wrong_contract",
        "but a ecom.events.v1.InventoryEvent",
    ),
    "replay: attributes name another contract": (
        _replay(ecom_contracts.encode(_inventory())),
        "auto",
        "wrong_contract",
        "its ecom_contract attribute names ecom.events.v1.InventoryEvent",
    ),
    "replay: Pub/Sub's schema attribute names another schema": (
        json.dumps(
            {
                "data": base64.b64encode(ORDER_BINARY).decode(),
                "attributes": {"googclient_schemaname": "projects/p/schemas/inventory-event"},
            }
        ),
        "replay",
        "wrong_contract",
        "names schema 'inventory-event', not order-event",
    ),
    "replay: a field of a newer revision": (
        json.dumps({"data": base64.b64encode(ORDER_BINARY + b"\x98\x06\x01").decode()}),
        "auto",
        "unknown_fields",
        "field number(s) 99 are not in ecom.events.v1.OrderEvent r1",
    ),
    "replay: a nested field of a newer revision": (
        json.dumps({"data": base64.b64encode(NEWER_ITEM.SerializeToString()).decode()}),
        "auto",
        "unknown_fields",
        "items[1].100",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_each_kind_of_refusal(case: str, tmp_path: Path):
    line, fmt, kind, holds = REFUSED[case]
    path = tmp_path / "events.ndjson"
    path.write_text(f"{ORDER_JSON}\n{line}\n")
    result = ecom_contracts.check_file(path, ecom_contracts.contract("order-event"), fmt)
    if fmt in {"replay", "pubsub-json"}:  # the first line is proto3 JSON: refused there too
        result.refusals = [r for r in result.refusals if r.line == 2]
    assert result.events == 2
    (refusal,) = result.refusals
    assert (refusal.line, refusal.kind) == (2, kind), refusal
    assert holds in refusal.detail
    assert str(refusal).startswith(f"{path}:2: {kind}: ")


def test_a_utf8_byte_order_mark_is_skipped(tmp_path: Path):
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + ORDER_JSON.encode() + b"\n" + ORDER_JSON.encode() + b"\n")
    result = ecom_contracts.check_file(path, ecom_contracts.contract("order-event"))
    assert (result.events, result.refusals) == (2, [])


def test_a_line_that_is_not_utf8_is_malformed(tmp_path: Path):
    path = tmp_path / "events.ndjson"
    path.write_bytes(ORDER_JSON.encode().replace(b'"o', b'"\xff', 1) + b"\n" + ORDER_JSON.encode())
    result = ecom_contracts.check_file(path, ecom_contracts.contract("order-event"))
    assert result.events == 2
    (refusal,) = result.refusals
    assert (refusal.line, refusal.kind) == (1, "malformed")
    assert refusal.detail.startswith("not UTF-8: ")


def _validate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(["validate", *argv])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_validate_prints_one_line_per_refused_event_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    broken = _order()
    broken.items[0].quantity = 0
    broken.currency = "euro"
    path = tmp_path / "orders.ndjson"
    lines = [ORDER_JSON, json_format.MessageToJson(broken, indent=None), "{oops", ORDER_JSON]
    path.write_text("\n".join(lines) + "\n")
    code, out, err = _validate(capsys, "--contract", "order-event", str(path))
    assert code == 1
    assert out == [
        f"{path}:2: invalid: currency: string.pattern: does not match regex pattern "
        "`^[A-Z]{3}$`; items[0].quantity: int32.gt: must be greater than 0",
        f"{path}:3: malformed: not a ecom.events.v1.OrderEvent in JSON: "
        + out[1].split(" in JSON: ", 1)[1],
    ]
    assert "checked 4 event(s) against ecom.events.v1.OrderEvent r1" in err
    assert "2 valid, 2 refused" in err


def test_validate_of_good_events_exits_0_across_files_and_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    import io
    import sys

    first, second = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    first.write_text(ORDER_JSON + "\n")
    second.write_text(_replay(ecom_contracts.encode(_order())) + "\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ORDER_PUBSUB_JSON.encode())))
    code, out, err = _validate(
        capsys, "--contract", "OrderEvent", str(first), str(second), "-", "--format", "auto"
    )
    assert (code, out) == (1, [f"-:1: malformed: {out[0].split(': malformed: ')[1]}"])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ORDER_PUBSUB_JSON.encode())))
    code, out, err = _validate(capsys, "--contract", "order-events", "--format", "pubsub-json", "-")
    assert (code, out) == (0, [])
    assert "1 valid, 0 refused" in err
    code, out, err = _validate(capsys, "--contract", "order-event", str(first), str(second))
    assert (code, out) == (0, [])
    assert "checked 2 event(s)" in err


USAGE = {
    "unknown contract": (
        ["--contract", "refund-event", "x.ndjson"],
        "argument --contract: unknown contract 'refund-event'; known: inventory-event, "
        "order-event, user-activity-event",
    ),
    "no contract": (["x.ndjson"], "the following arguments are required: --contract"),
    "no file": (["--contract", "order-event"], "the following arguments are required: FILE"),
    "missing file": (
        ["--contract", "order-event", "missing.ndjson"],
        "argument FILE: cannot read missing.ndjson: No such file or directory",
    ),
    "empty file": (["--contract", "order-event", "empty.ndjson"], "no events in empty.ndjson"),
    "unknown format": (["--contract", "order-event", "--format", "avro", "x"], "--format"),
    "negative cap": (
        ["--contract", "order-event", "--max-refusals", "-1", "x"],
        "argument --max-refusals: a whole number, 0 or more, not '-1'",
    ),
}


@pytest.mark.parametrize("case", USAGE)
def test_usage_errors_exit_2_with_one_line_naming_the_option(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.ndjson").write_text("\n\n")
    argv, says = USAGE[case]
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", *argv])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("ecom-contracts validate: error: ")
    assert says in captured.err


@pytest.mark.parametrize(
    "command",
    [[], ["validate"], ["publish"], ["example"], ["check-compatibility"], ["version"]],
)
def test_every_command_has_help_with_its_exit_statuses(
    command: list[str], capsys: pytest.CaptureFixture[str]
):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "Exit status: 0" in capsys.readouterr().out


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_standard_input_named_twice_is_a_usage_error(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "--contract", "order-event", "-", "-"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "ecom-contracts validate: error: argument FILE: standard input ('-') can be read only "
        "once\n"
    )


def test_a_binary_file_gives_a_capped_report(tmp_path: Path):
    import random

    noise = random.Random(18).randbytes(200_000)
    path = tmp_path / "events.bin"
    path.write_bytes(noise)
    lines = noise.count(b"\n") + 1
    completed = subprocess.run(
        [sys.executable, "-m", "ecom_contracts", "validate", "--contract", "order-event",
         str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 1
    printed = completed.stdout.splitlines()
    assert len(printed) == 100
    assert all(line.startswith(f"{path}:") for line in printed)
    refused = int(completed.stderr.split(" refused")[0].rsplit(", ", 1)[1])
    assert refused > 500
    assert refused <= lines
    assert (
        f"; {refused - 100} more refused line(s) not shown (the first 100 are; --max-refusals 0 "
        "prints all)" in completed.stderr
    )
    assert "Traceback" not in completed.stderr
    everything = subprocess.run(
        [sys.executable, "-m", "ecom_contracts", "validate", "--contract", "order-event",
         "--max-refusals", "0", str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert len(everything.stdout.splitlines()) == refused


@pytest.mark.parametrize(
    "argv",
    [
        ["version"],
        ["validate", "--contract", "order-event", "--max-refusals", "0", "{events}"],
    ],
)
def test_a_reader_that_stops_early_ends_the_command_quietly(argv: list[str], tmp_path: Path):
    events = tmp_path / "events.ndjson"
    events.write_text("{oops\n" * 5000)
    read, write = os.pipe()
    os.close(read)  # as `| head -1` does once it has its line: every write now fails
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "ecom_contracts", *(a.format(events=events) for a in argv)],
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        os.close(write)
    assert "Traceback" not in completed.stderr, completed.stderr
    assert "BrokenPipe" not in completed.stderr
    assert completed.returncode == 141


class _RecordingPublisher(ecom_contracts.RecordingPublisher):
    """The package's RecordingPublisher, noting each publisher the command makes."""

    made: ClassVar[list[str]] = []

    def __init__(self, topic: str, **options: Any) -> None:
        self.made.append(topic)
        super().__init__(
            topic,
            ordering=bool(options.get("ordering")),
            encoding=str(options.get("encoding") or "BINARY"),
            contract=options.get("contract"),
        )


TOPIC = "projects/p-1/topics/order-events"


def test_publish_sends_nothing_when_any_event_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    from ecom_contracts import _cli

    monkeypatch.setattr(_cli, "Publisher", _RecordingPublisher)
    _RecordingPublisher.made.clear()
    path = tmp_path / "orders.ndjson"
    path.write_text(f"{ORDER_JSON}\n[]\n{ORDER_JSON}\n")
    argv = ["publish", "--topic", TOPIC, "--contract", "order-event", str(path)]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == (
        f"{path}:2: malformed: a line holds one event as a JSON object ({{...}}) of "
        "ecom.events.v1.OrderEvent, not an array\n"
    )
    assert f"nothing published to {TOPIC}: 1 of 3 event(s) refused" in captured.err
    assert _RecordingPublisher.made == []  # no client: nothing could be sent
    assert main([*argv, "--dry-run", "--skip-invalid"]) == 1
    assert "dry run: 2 of 3 event(s) would be published" in capsys.readouterr().err
    assert _RecordingPublisher.made == []
    assert main([*argv, "--skip-invalid"]) == 1
    assert "published 2 of 3 events" in capsys.readouterr().err
    assert _RecordingPublisher.made == [TOPIC]


PUBLISH_USAGE = {
    "malformed topic": (
        ["--topic", "order-events", "--contract", "order-event", "good.ndjson"],
        "argument --topic: 'order-events' is not projects/PROJECT/topics/TOPIC",
    ),
    "topic of a project only": (
        ["--topic", "projects/p-1", "--contract", "order-event", "good.ndjson"],
        "is not projects/PROJECT/topics/TOPIC",
    ),
    "no topic": (
        ["--contract", "order-event", "good.ndjson"],
        "the following arguments are required: --topic",
    ),
    "empty file": (
        ["--topic", TOPIC, "--contract", "order-event", "empty.ndjson"],
        "argument FILE: no events in empty.ndjson",
    ),
    "empty file, dry run": (
        ["--topic", TOPIC, "--contract", "order-event", "--dry-run", "empty.ndjson"],
        "argument FILE: no events in empty.ndjson",
    ),
}


@pytest.mark.parametrize("case", PUBLISH_USAGE)
def test_publish_usage_errors_exit_2_with_one_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    from ecom_contracts import _cli

    monkeypatch.setattr(_cli, "Publisher", _RecordingPublisher)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.ndjson").write_text("\n")
    (tmp_path / "good.ndjson").write_text(ORDER_JSON + "\n")
    argv, says = PUBLISH_USAGE[case]
    with pytest.raises(SystemExit) as exit_info:
        main(["publish", *argv])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("ecom-contracts publish: error: ")
    assert says in captured.err
