"""The replay record format and the coders of the pipeline's elements.

``PubsubRecord.from_json`` parses with orjson and must take exactly what the
standard library takes, with the same values; the reference here is the
parsing it replaced (``json.loads`` and ``base64.b64decode(validate=True)``).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.coders.typecoders import registry
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import coders
from pipeline.model import FactRow
from pipeline.record import PubsubRecord


def reference(line: str | bytes) -> PubsubRecord:
    """The standard library's reading of a replay line (the parser before orjson)."""
    parsed: Any = json.loads(line)
    if not isinstance(parsed, dict) or not isinstance(parsed.get("data", ""), str):
        raise ValueError("not a record")
    attributes = parsed.get("attributes") or {}
    if not isinstance(attributes, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()
    ):
        raise ValueError("bad attributes")
    return PubsubRecord(
        base64.b64decode(parsed.get("data", ""), validate=True),
        dict(attributes),
        str(parsed.get("messageId", "")),
        str(parsed.get("publishTime", "")),
    )


def outcome(line: str | bytes, parse: Any) -> tuple[str, Any]:
    try:
        return "record", parse(line)
    except (ValueError, binascii.Error):
        return "refused", None


EDGE_LINES = [
    b'{"data": "QQ=="}',
    b'{"data": "QQ==QQ=="}',  # data after padding
    b'{"data": "Q Q=="}',  # a space in base64
    b'{"data": "QQ="}',  # short padding
    b'{"data": ""}',
    b"{}",
    b'{"data": 5}',
    b"[1]",
    b"null",
    b"not json",
    b'{"data": "QQ==", "messageId": 123456789012345678901234567890}',  # beyond 64 bits
    b'{"data": "QQ==", "messageId": 12, "publishTime": 1.5}',
    b'{"data": "QQ==", "messageId": null}',
    b'{"data": "QQ==", "messageId": NaN}',  # the standard library takes NaN
    b'\xef\xbb\xbf{"data": "QQ=="}',  # a byte order mark
    b'{"data": "QQ==", "messageId": "\\ud800"}',  # a lone surrogate
    b'{"data": "QQ==", "attributes": {"a": 1}}',
    b'{"data": "QQ==", "attributes": ["a"]}',
    b'{"data": "QQ==", "attributes": null}',
    b'{"data": "QQ==", "data": "Qg=="}',  # a repeated key: the last one, as json takes it
    b'{"data": "QQ==", "attributes": {"k": "v"}, "reason": "extra fields are ignored"}',
    '{"data": "QQ==", "messageId": "é"}',
    b'{"data": "QQ==", "messageId": "\xe9"}',  # not UTF-8
]


@pytest.mark.parametrize("line", EDGE_LINES, ids=range(len(EDGE_LINES)))
def test_from_json_takes_what_the_standard_library_takes(line: str | bytes):
    assert outcome(line, PubsubRecord.from_json) == outcome(line, reference)


_text = st.text(max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=64),
    attributes=st.dictionaries(_text, _text, max_size=4),
    message_id=st.one_of(_text, st.integers(), st.none()),
    publish_time=st.one_of(_text, st.floats(allow_nan=False)),
)
def test_from_json_reads_every_record_as_the_standard_library_does(
    data: bytes, attributes: dict[str, str], message_id: Any, publish_time: Any
):
    line = json.dumps(
        {
            "data": base64.b64encode(data).decode(),
            "attributes": attributes,
            "messageId": message_id,
            "publishTime": publish_time,
        }
    )
    assert outcome(line, PubsubRecord.from_json) == outcome(line, reference)
    assert PubsubRecord.from_json(line).data == data


def test_records_and_rows_cross_a_stage_boundary_unchanged():
    record = PubsubRecord(b"\x00payload", {"ecom_contract": "x"}, "m1", "2025-12-01T00:00:00Z", "c")
    row = FactRow("fact_inventory", "inv-1", {"event_id": "inv-1", "quantity_change": -2})
    record_coder = registry.get_coder(PubsubRecord)
    row_coder = registry.get_coder(FactRow)
    assert isinstance(record_coder, coders.PubsubRecordCoder)
    assert isinstance(row_coder, coders.FactRowCoder)
    decoded = record_coder.decode(record_coder.encode(record))
    assert decoded == record
    assert decoded.default_contract == "c"
    assert row_coder.decode(row_coder.encode(row)) == row


def test_a_batch_is_sized_without_being_encoded():
    """The runner's size sampling of a batch must not pickle its records (the cost it had)."""
    batch = [PubsubRecord(b"x" * 100, {"k": "v"}, f"m{i}") for i in range(1000)]
    coder = registry.get_coder(beam.typehints.List[PubsubRecord])
    calls = 0
    original = coders._encode_record

    def counting(record: PubsubRecord) -> bytes:
        nonlocal calls
        calls += 1
        return original(record)

    coders._encode_record = counting
    try:
        size = coder.get_impl().estimate_size(batch)
        impl = registry.get_coder(PubsubRecord).get_impl()
    finally:
        coders._encode_record = original
    assert calls == 0
    assert size >= 1000 * coders.record_size(batch[0])
    assert impl.estimate_size(batch[0]) >= 100
