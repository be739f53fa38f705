"""Bad input of every kind: no crash, no hang, rows or exactly one meaningful dead letter.

Hypothesis drives arbitrary bytes, truncated and bit-flipped valid payloads,
wrong and missing attributes, mislabelled encodings, oversized payloads and
deeply nested JSON through route, decode, validate and model. (The atheris
harness in ``fuzz_messages.py`` runs the same check coverage-guided.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecom_ingest_pb.deadletter.v1 import dead_letter_pb2
from ops.traffic import TrafficGenerator
from pipeline.catalog import CONTRACTS
from pipeline.deadletter import MAX_DETAIL, to_json_line
from pipeline.process import Outcome, process
from pipeline.record import PubsubRecord

VALID = list(TrafficGenerator(seed=5, bad_share=0, json_share=0.2).messages(300))
CONTRACT_NAMES = [c.name for c in CONTRACTS]
DEAD_LETTER_FIELDS = {field.json_name for field in dead_letter_pb2.DeadLetter.DESCRIPTOR.fields}


def check(record: PubsubRecord) -> Outcome:
    """The invariant every input must satisfy."""
    outcome = process(record)
    assert bool(outcome.rows) != (outcome.dead_letter is not None), "rows xor one dead letter"
    letter = outcome.dead_letter
    if letter is not None:
        assert letter.data == record.data, "the original payload survives"
        assert dict(letter.attributes) == record.attributes
        assert letter.reason != dead_letter_pb2.REASON_UNSPECIFIED
        assert letter.stage != dead_letter_pb2.STAGE_UNSPECIFIED
        assert 0 < len(letter.detail) <= MAX_DETAIL
        assert "Traceback" not in letter.detail
        assert ".py" not in letter.detail, "no source paths"
        written = json.loads(to_json_line(letter))
        assert set(written) <= DEAD_LETTER_FIELDS, "nothing beyond the record type"
    return outcome


attributes = st.one_of(
    st.fixed_dictionaries(
        {
            "ecom_contract": st.sampled_from([*CONTRACT_NAMES, "", "x.Y", "ecom.events.v1.Refund"]),
            "ecom_encoding": st.sampled_from(["BINARY", "JSON", "json", "AVRO", ""]),
        }
    ),
    st.fixed_dictionaries(
        {
            "googclient_schemaname": st.sampled_from(
                ["projects/p/schemas/order-event", "projects/p/schemas/nope", ""]
            ),
            "googclient_schemaencoding": st.sampled_from(["BINARY", "JSON", "XML"]),
        }
    ),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4),
)


@settings(max_examples=300, deadline=2000)
@given(st.binary(max_size=400), attributes)
def test_arbitrary_bytes_and_attributes(data: bytes, attrs: dict[str, str]):
    check(PubsubRecord(data, attrs, "m"))


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VALID), st.integers(0, 10_000), st.integers(0, 7))
def test_truncated_and_bit_flipped_valid_payloads(message: Any, position: int, bit: int):
    data = bytearray(message.data)
    flipped = bytearray(data)
    flipped[position % len(flipped)] ^= 1 << bit
    check(PubsubRecord(bytes(data[: position % len(data)]), message.attributes, "t"))
    check(PubsubRecord(bytes(flipped), message.attributes, "f"))


@settings(max_examples=100, deadline=2000)
@given(st.sampled_from(VALID))
def test_mislabelled_encodings(message: Any):
    swapped = "BINARY" if message.attributes["ecom_encoding"] == "JSON" else "JSON"
    outcome = check(
        PubsubRecord(message.data, {**message.attributes, "ecom_encoding": swapped}, "e")
    )
    assert outcome.dead_letter is not None
    assert outcome.dead_letter.reason in (
        dead_letter_pb2.REASON_DECODE_ERROR,
        dead_letter_pb2.REASON_INVALID,
    )


def test_missing_attributes_are_unknown_events():
    outcome = check(PubsubRecord(VALID[0].data, {}, "m"))
    assert outcome.dead_letter is not None
    assert outcome.dead_letter.reason == dead_letter_pb2.REASON_UNKNOWN_EVENT


@pytest.mark.parametrize("encoding", ["BINARY", "JSON"])
def test_oversized_payload(encoding: str):
    """Pub/Sub's limit is 10 MB; a payload that size fails cleanly, whatever it holds."""
    attrs = {"ecom_contract": "ecom.events.v1.UserActivityEvent", "ecom_encoding": encoding}
    huge_string = b"\x1a" + b"\xff\xff\xff\x04" + b"x" * 10_000_000  # field 3, 10 MB string
    json_payload = json.dumps({"userId": "u" * 10_000_000}).encode()
    outcome = check(PubsubRecord(huge_string if encoding == "BINARY" else json_payload, attrs, "m"))
    assert outcome.dead_letter is not None


@pytest.mark.parametrize("depth", [50, 101, 5_000, 200_000])
def test_deeply_nested_json(depth: int):
    nested = b'{"eventTimestamp": ' + b"[" * depth + b"]" * depth + b"}"
    attrs = {"ecom_contract": "ecom.events.v1.OrderEvent", "ecom_encoding": "JSON"}
    outcome = check(PubsubRecord(nested, attrs, "m"))
    assert outcome.dead_letter is not None
    assert outcome.dead_letter.reason == dead_letter_pb2.REASON_DECODE_ERROR


def test_deeply_nested_binary():
    """100,000 nested groups of an unknown field: the parser's depth limit, not a crash."""
    nested = b"\x7b" * 100_000 + b"\x7c" * 100_000  # field 15, start/end group
    outcome = check(PubsubRecord(nested, {"ecom_contract": "ecom.events.v1.OrderEvent"}, "m"))
    assert outcome.dead_letter is not None


def test_atheris_harness_runs():
    """The coverage-guided harness (``make fuzz``) runs a bounded number of inputs cleanly."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("atheris") is None:
        pytest.skip("atheris is not installed (its wheels are for Linux x86_64)")
    completed = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.fuzz_messages", "-runs=3000", "-max_len=4096"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "Done 3000 runs" in completed.stderr


def test_valid_traffic_lands():
    assert all(check(PubsubRecord(m.data, m.attributes, "v")).rows for m in VALID)
