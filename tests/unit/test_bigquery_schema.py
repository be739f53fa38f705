"""The proto-to-BigQuery type mapping and the rules a warehouse contract must follow."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contracts import toolchain
from contracts.bigquery_schema import Column, Table, enum_labels, warehouse_tables
from contracts.ddl import column_type, render_ddl
from contracts.descriptors import ContractImage
from contracts.errors import ContractDefinitionError
from ecom_contracts_pb.events.v1 import inventory_event_pb2, order_event_pb2

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "protos"


def compile_tables(tmp_path: Path, source: str) -> list[Table]:
    """Compile the project's proto/ plus ``source`` (as ecom/testing/v1/t.proto) into tables."""
    root = tmp_path / "proto"
    shutil.copytree(ROOT / "proto", root)
    target = root / "ecom/testing/v1/t.proto"
    target.parent.mkdir(parents=True)
    target.write_text(source)
    image = toolchain.build_image(root, tmp_path / "build")
    loaded = ContractImage.load(image, ["ecom/testing/v1/t.proto"])
    return warehouse_tables(loaded)


@pytest.fixture(scope="module")
def every_type(tmp_path_factory: pytest.TempPathFactory) -> Table:
    source = (FIXTURES / "type_mapping.proto").read_text()
    (table,) = compile_tables(tmp_path_factory.mktemp("mapping"), source)
    return table


EXPECTED = {
    # column: (JSON type, DDL type, mode)
    "a_double": ("FLOAT", "FLOAT64", "NULLABLE"),
    "a_float": ("FLOAT", "FLOAT64", "NULLABLE"),
    "an_int32": ("INTEGER", "INT64", "NULLABLE"),
    "a_sint32": ("INTEGER", "INT64", "NULLABLE"),
    "a_sfixed32": ("INTEGER", "INT64", "NULLABLE"),
    "a_uint32": ("INTEGER", "INT64", "NULLABLE"),
    "a_fixed32": ("INTEGER", "INT64", "NULLABLE"),
    "an_int64": ("INTEGER", "INT64", "NULLABLE"),
    "a_sint64": ("INTEGER", "INT64", "NULLABLE"),
    "a_sfixed64": ("INTEGER", "INT64", "NULLABLE"),
    "a_uint64": ("NUMERIC", "NUMERIC", "NULLABLE"),
    "a_fixed64": ("NUMERIC", "NUMERIC", "NULLABLE"),
    "a_bool": ("BOOLEAN", "BOOL", "NULLABLE"),
    "a_string": ("STRING", "STRING", "REQUIRED"),
    "some_bytes": ("BYTES", "BYTES", "NULLABLE"),
    "an_enum": ("STRING", "STRING", "NULLABLE"),
    "a_timestamp": ("TIMESTAMP", "TIMESTAMP", "NULLABLE"),
    "day": ("DATE", "DATE", "REQUIRED"),
    "money": ("NUMERIC", "NUMERIC", "NULLABLE"),
    "a_record": ("RECORD", "STRUCT<...>", "NULLABLE"),
    "records": ("RECORD", "STRUCT<...>", "REPEATED"),
    "strings": ("STRING", "STRING", "REPEATED"),
    "maybe": ("STRING", "STRING", "NULLABLE"),
    "stored_at": ("TIMESTAMP", "TIMESTAMP", "NULLABLE"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_type_mapping(every_type: Table, name: str):
    column = every_type.column(name)
    assert (column.json_type, column.ddl_type, column.mode) == EXPECTED[name]


def test_nested_record_columns(every_type: Table):
    record = every_type.column("a_record")
    assert [(f.name, f.json_type, f.mode) for f in record.fields] == [
        ("leaf", "STRING", "REQUIRED"),
        ("numbers", "INTEGER", "REPEATED"),
    ]
    assert column_type(every_type.column("records")) == (
        'ARRAY<STRUCT<leaf STRING NOT NULL OPTIONS (description = "Leaf of the record."), '
        'numbers ARRAY<INT64> OPTIONS (description = "Repeated leaf.")>>'
    )
    assert render_ddl(every_type).count("CREATE TABLE IF NOT EXISTS `events.every_type`") == 1


def test_pii_gets_policy_tag_and_marker(every_type: Table):
    api = every_type.column("maybe").to_api_repr()
    assert api["policyTags"]["names"][0].startswith("projects/{project}/")
    assert api["description"].endswith("[PII]")
    assert "policyTags" not in every_type.column("a_string").to_api_repr()


def test_enum_labels_strip_the_prefix():
    labels = enum_labels(order_event_pb2.OrderStatus.DESCRIPTOR)
    assert labels[order_event_pb2.ORDER_STATUS_DELIVERED] == "delivered"
    assert labels[order_event_pb2.ORDER_STATUS_UNSPECIFIED] == "unspecified"
    reasons = enum_labels(inventory_event_pb2.InventoryReason.DESCRIPTOR)
    assert reasons[inventory_event_pb2.INVENTORY_REASON_RETURN] == "return"


def test_every_mapping_row_is_exercised():
    from contracts.bigquery_schema import TYPE_MAPPING

    exercised = {(json_type, ddl) for json_type, ddl, _ in EXPECTED.values()}
    for mapping in TYPE_MAPPING:
        if mapping.proto != "repeated T":
            assert (mapping.json_type, mapping.ddl_type) in exercised, mapping.proto


HEADER = """syntax = "proto3";
package ecom.testing.v1;
import "ecom/types/v1/types.proto";
import "ecom/warehouse/v1/options.proto";
import "google/protobuf/timestamp.proto";
"""


def _table(
    fields: str,
    *,
    partition: str = "day",
    clustering: str = '"id"',
    key: str = "k",
    ingestion: str = "at",
) -> str:
    return (
        HEADER
        + f"""// t
message T {{
  option (ecom.warehouse.v1.table) = {{
    name: "t" partition_column: "{partition}" clustering_columns: [{clustering}]
    key_column: "{key}" ingestion_time_column: "{ingestion}"
  }};
  // d
  ecom.types.v1.Date day = 1 [(ecom.warehouse.v1.column).required = true];
  // i
  string id = 2;
  // k
  string k = 30 [(ecom.warehouse.v1.column).required = true];
  // a
  google.protobuf.Timestamp at = 31 [(ecom.warehouse.v1.column).default_value_expression = "NOW()"];
{fields}
}}
"""
    )


BROKEN = {
    "map field": (_table("  // m\n  map<string, string> m = 3;"), "map fields"),
    "required repeated": (
        _table("  // r\n  repeated string r = 3 [(ecom.warehouse.v1.column).required = true];"),
        "repeated field cannot be required",
    ),
    "required optional": (
        _table("  // o\n  optional string o = 3 [(ecom.warehouse.v1.column).required = true];"),
        "`optional` field cannot be required",
    ),
    "missing description": (_table("  string x = 3;"), "needs a comment"),
    "reserved prefix": (_table("  // p\n  string _PARTITION_x = 3;"), "reserved by BigQuery"),
    "unknown partition column": (_table("", partition="nope"), "partition column 'nope'"),
    "partition column not a date": (_table("", partition="id"), "must be a REQUIRED DATE"),
    "unknown clustering column": (_table("", clustering='"nope"'), "clustering column 'nope'"),
    "too many clustering columns": (
        _table("", clustering='"id", "id2", "id3", "id4", "id5"'),
        "1 to 4 distinct columns",
    ),
    "unknown key column": (_table("", key="nope"), "key_column 'nope' is not a column"),
    "nullable key column": (_table("", key="id"), "must be a REQUIRED STRING or INTEGER"),
    "unknown ingestion column": (
        _table("", ingestion="ts"),
        "ingestion_time_column 'ts' is not a column",
    ),
    "ingestion column not filled by BigQuery": (
        _table("  // s\n  google.protobuf.Timestamp s = 3;", ingestion="s"),
        "must be a TIMESTAMP with a default value expression",
    ),
    "clustering on a float": (
        _table("  // f\n  double f = 3;", clustering='"f"'),
        "cannot be clustered on",
    ),
    "default on a required column": (
        _table(
            "  // d\n  string x = 3 [(ecom.warehouse.v1.column) = "
            '{required: true, default_value_expression: "\\"a\\""}];'
        ),
        "must be NULLABLE",
    ),
}


def _deep(levels: int) -> str:
    messages = []
    for level in range(levels):
        inner = (
            f"  // n\n  L{level + 1} n = 1;\n" if level + 1 < levels else "  // v\n  int32 v = 1;\n"
        )
        messages.append(f"// l\nmessage L{level} {{\n{inner}}}\n")
    return "".join(messages)


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_declarations_are_refused(tmp_path: Path, case: str):
    source, message = BROKEN[case]
    with pytest.raises(ContractDefinitionError, match=message):
        compile_tables(tmp_path, source)


def test_nesting_deeper_than_15_is_refused(tmp_path: Path):
    source = _table("  // deep\n  L0 deep = 3;") + _deep(16)
    with pytest.raises(ContractDefinitionError, match="BigQuery allows 15"):
        compile_tables(tmp_path, source)


def test_nesting_of_15_is_accepted(tmp_path: Path):
    source = _table("  // deep\n  L0 deep = 3;") + _deep(14)
    (table,) = compile_tables(tmp_path, source)
    depth, column = 1, table.column("deep")
    while column.fields:
        depth, column = depth + 1, column.fields[0]
    assert depth == 15


def test_column_to_api_repr_round_trip():
    from google.cloud.bigquery import SchemaField

    column = Column("c", "STRING", "STRING", "NULLABLE", "desc", default_value_expression="'x'")
    field = SchemaField.from_api_repr(column.to_api_repr())
    assert (field.name, field.field_type, field.mode, field.default_value_expression) == (
        "c",
        "STRING",
        "NULLABLE",
        "'x'",
    )
