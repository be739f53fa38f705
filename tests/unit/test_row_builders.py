"""Column sources and the generated row builders: every kind of the type mapping, and refusals.

The contract of ``protos/type_mapping.proto`` feeds one column of every kind
from the same-named event field; its builder is rendered and run on a real
message of the compiled image, so the row is checked value by value against
the type mapping (Timestamp, Date, Money, enums, records, repeated fields,
bytes, uint64). Broken declarations are compiled from variants of the
project's own contracts and must be refused one line each.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import message_factory

from contracts import toolchain
from contracts.bigquery_schema import warehouse_tables
from contracts.descriptors import ContractImage
from contracts.lineage import lineages, required_fields
from contracts.row_builders import render_rows_module
from ecom_warehouse_runtime.fact_rows import UnrepresentableValueError

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "protos" / "type_mapping.proto"  # as test_bigquery_schema


def _image(tmp_path: Path, edits: dict[str, tuple[str, str]], extra: str = "") -> ContractImage:
    root = tmp_path / "proto"
    shutil.copytree(ROOT / "proto", root)
    for path, (old, new) in edits.items():
        target = root / path
        text = target.read_text()
        assert old in text, old
        target.write_text(text.replace(old, new, 1))
    own = toolchain.proto_sources(root)
    if extra:
        target = root / "ecom/testing/v1/t.proto"
        target.parent.mkdir(parents=True)
        target.write_text(extra)
        own = ["ecom/testing/v1/t.proto"]
    return ContractImage.load(toolchain.build_image(root, tmp_path / "build"), own)


@pytest.fixture(scope="module")
def every_type(tmp_path_factory: pytest.TempPathFactory) -> tuple[ContractImage, dict[str, Any]]:
    image = _image(tmp_path_factory.mktemp("rows"), {}, FIXTURE.read_text())
    resolved, problems = lineages(image, warehouse_tables(image))
    assert problems == []
    namespace: dict[str, Any] = {}
    exec(render_rows_module(resolved, required_fields(image, resolved)), namespace)
    return image, namespace


def _event(image: ContractImage) -> Any:
    cls = message_factory.GetMessageClass(
        image.pool.FindMessageTypeByName("ecom.testing.v1.EveryTypeEvent")
    )
    event: Any = cls(
        a_double=1.5,
        a_float=0.25,
        an_int32=-3,
        a_uint64=2**64 - 1,
        a_fixed64=7,
        a_bool=True,
        a_string="k-1",
        some_bytes=b"\x00\xff",
        an_enum=4,
        strings=["x", "y"],
    )
    event.a_timestamp.seconds, event.a_timestamp.nanos = 1_767_323_045, 123_456_789
    event.day.year, event.day.month, event.day.day = 2026, 1, 2
    event.money.units, event.money.nanos = 12, 500_000_000
    event.a_record.leaf = "inner"
    event.a_record.numbers.extend([1, 2])
    event.records.add(leaf="r1")
    return event


def test_every_kind_of_the_type_mapping_converts(every_type: tuple[ContractImage, dict[str, Any]]):
    image, namespace = every_type
    (row,) = namespace["BUILDERS"]["ecom.testing.v1.EveryTypeEvent"](_event(image))
    assert row.table == "every_type"
    assert row.key == "k-1"
    assert row.row == {
        "a_double": 1.5,
        "a_float": 0.25,
        "an_int32": -3,
        "a_sint32": 0,
        "a_sfixed32": 0,
        "a_uint32": 0,
        "a_fixed32": 0,
        "an_int64": 0,
        "a_sint64": 0,
        "a_sfixed64": 0,
        "a_uint64": "18446744073709551615",
        "a_fixed64": "7",
        "a_bool": True,
        "a_string": "k-1",
        "some_bytes": "AP8=",
        "an_enum": "delivered",
        "a_timestamp": "2026-01-02T03:04:05.123456Z",
        "day": "2026-01-02",
        "money": "12.5",
        "a_record": {"leaf": "inner", "numbers": [1, 2]},
        "records": [{"leaf": "r1", "numbers": []}],
        "strings": ["x", "y"],
        "maybe": None,
    }


def test_absent_messages_and_optional_fields_are_null(
    every_type: tuple[ContractImage, dict[str, Any]],
):
    image, namespace = every_type
    event = _event(image)
    for name in ("a_timestamp", "money", "a_record"):
        event.ClearField(name)
    event.maybe = ""
    (row,) = namespace["BUILDERS"]["ecom.testing.v1.EveryTypeEvent"](event)
    assert row.row["a_timestamp"] is None
    assert row.row["money"] is None
    assert row.row["a_record"] is None
    assert row.row["maybe"] == ""  # set, though empty: not NULL


def test_undefined_enum_value_and_impossible_date_are_unrepresentable(
    every_type: tuple[ContractImage, dict[str, Any]],
):
    image, namespace = every_type
    build = namespace["BUILDERS"]["ecom.testing.v1.EveryTypeEvent"]
    event = _event(image)
    event.an_enum = 42
    with pytest.raises(UnrepresentableValueError, match="enum value 42"):
        build(event)
    event = _event(image)
    event.day.month = 2
    event.day.day = 30
    with pytest.raises(UnrepresentableValueError, match="date 2026-2-30"):
        build(event)


INVENTORY = "ecom/warehouse/v1/fact_inventory.proto"
ORDER_ITEM = "ecom/warehouse/v1/fact_order_item.proto"

REFUSALS = {
    "unknown derivation": (
        INVENTORY,
        'source: "date(event_timestamp)"',
        'source: "day_of(event_timestamp)"',
        "fact_inventory.event_date: source 'day_of(event_timestamp)': day_of() is not a "
        "derivation (known: count, date, line_key, line_number, line_total, nullif_empty, "
        "order_total)",
    ),
    "line derivation outside a line table": (
        INVENTORY,
        'source: "event_id"\n  }];\n  // UTC date',
        'source: "line_key(event_id)"\n  }];\n  // UTC date',
        "fact_inventory.event_id: source 'line_key(event_id)': line_key() needs a line table "
        "(the table declares no `lines`)",
    ),
    "enum of another type": (
        INVENTORY,
        'source: "reason"',
        'source: "quantity_change"',
        "fact_inventory.reason: source 'quantity_change': quantity_change is INTEGER (int32); "
        "it does not convert to STRING",
    ),
    "a repeated field read without a derivation": (
        ORDER_ITEM,
        'source: "event_id"',
        'source: "items"',
        "fact_order_item.event_id: source 'items': items is repeated and the column is REQUIRED",
    ),
    "a Timestamp where a DATE is wanted": (
        ORDER_ITEM,
        'source: "date(event_timestamp)"',
        'source: "event_timestamp"',
        "fact_order_item.order_date: source 'event_timestamp': event_timestamp is TIMESTAMP "
        "(google.protobuf.Timestamp); it does not convert to DATE",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_broken_sources_are_refused_one_line_each(case: str, tmp_path: Path):
    path, old, new, expected = REFUSALS[case]
    image = _image(tmp_path, {path: (old, new)})
    _, problems = lineages(image, warehouse_tables(image))
    assert [problem.line() for problem in problems] == [expected]
