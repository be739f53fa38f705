"""Golden validation cases: each file under cases/ is an event and the violations it must produce.

A file is ``cases/<event>/<case>.textproto``; every ``# expect: <field path> <rule id>``
line (``# expect: <rule id>`` for a rule on the whole message) names one violation.
A file with no expectation must be valid. The comparison is exact.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import text_format

from ecom_contracts_pb.events.v1 import (
    inventory_event_pb2,
    order_event_pb2,
    user_activity_event_pb2,
)
from pipeline.validate import collect_violations

CASES = Path(__file__).parent / "cases"
EVENTS = {
    "order_event": order_event_pb2.OrderEvent,
    "inventory_event": inventory_event_pb2.InventoryEvent,
    "user_activity_event": user_activity_event_pb2.UserActivityEvent,
}
CASE_FILES = sorted(CASES.glob("*/*.textproto"))


def _expected(text: str) -> set[tuple[str, str]]:
    expected = set()
    for line in text.splitlines():
        if line.startswith("# expect:"):
            parts = line.removeprefix("# expect:").split()
            path, rule = ("", parts[0]) if len(parts) == 1 else (parts[0], parts[1])
            expected.add((path, rule))
    return expected


def test_every_event_has_valid_and_invalid_cases():
    for event in EVENTS:
        names = [path.name for path in CASES.glob(f"{event}/*.textproto")]
        assert any(n.startswith("valid_") for n in names), event
        assert any(n.startswith("invalid_") for n in names), event
    assert {path.parent.name for path in CASE_FILES} == set(EVENTS)


@pytest.mark.parametrize("case", CASE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_case(case: Path):
    text = case.read_text()
    event = text_format.Parse(text, EVENTS[case.parent.name]())
    expected = _expected(text)
    assert case.stem.startswith("valid_") == (not expected), "name says valid_/invalid_"
    found = collect_violations(event)
    assert {(v.field_path, v.rule_id) for v in found} == expected
    assert all(v.message for v in found)
