"""BigQuery JSON schemas, DDL and warehouse contracts agree column for column."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from google.cloud.bigquery import SchemaField
from sqlglot import expressions as exp

from ecom_ingest_pb.warehouse.v1 import (
    fact_inventory_pb2,
    fact_order_header_pb2,
    fact_order_item_pb2,
    fact_order_pb2,
    fact_user_activity_pb2,
)

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS: dict[str, Any] = {
    "fact_order_header": fact_order_header_pb2.FactOrderHeader,
    "fact_order_item": fact_order_item_pb2.FactOrderItem,
    "fact_order": fact_order_pb2.FactOrder,
    "fact_inventory": fact_inventory_pb2.FactInventory,
    "fact_user_activity": fact_user_activity_pb2.FactUserActivity,
}
# Partitioning and clustering exactly as the seed document describes each table.
SEED_LAYOUT = {
    "fact_order_header": ("order_date", ["shipping_address_country", "status"]),
    "fact_order_item": ("order_date", ["product_id"]),
    "fact_order": ("order_date", ["customer_id", "order_id"]),
    "fact_inventory": ("event_date", ["product_id", "reason"]),
    "fact_user_activity": ("event_date", ["user_id", "session_id"]),
}
# GoogleSQL type names as sqlglot prints them, to the JSON schema's names.
DDL_TO_JSON = {
    "STRING": "STRING",
    "INT64": "INTEGER",
    "FLOAT64": "FLOAT",
    "BOOL": "BOOLEAN",
    "BYTES": "BYTES",
    "NUMERIC": "NUMERIC",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
}
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,299}$")
TABLES = sorted(CONTRACTS)


def _json(table: str) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = json.loads((ROOT / "bq_schemas" / f"{table}.json").read_text())
    return fields


def _ddl(table: str) -> exp.Create:
    statement = sqlglot.parse_one((ROOT / "sql" / f"{table}.sql").read_text(), read="bigquery")
    assert isinstance(statement, exp.Create)
    return statement


def _ddl_columns(create: exp.Create) -> list[tuple[str, str, str]]:
    columns = []
    for column in create.this.expressions:
        kinds = [c.kind for c in column.constraints]
        required = any(isinstance(k, exp.NotNullColumnConstraint) for k in kinds)
        ddl_type = column.kind.sql(dialect="bigquery")
        columns.append((column.name, DDL_TO_JSON[ddl_type], "REQUIRED" if required else "NULLABLE"))
    return columns


def test_one_schema_and_one_ddl_per_table():
    assert sorted(p.stem for p in (ROOT / "bq_schemas").glob("*.json")) == TABLES
    assert sorted(p.stem for p in (ROOT / "sql").glob("*.sql")) == TABLES


@pytest.mark.parametrize("table", TABLES)
def test_json_schema_loads_in_the_bigquery_client(table: str):
    fields = [SchemaField.from_api_repr(field) for field in _json(table)]
    assert [f.name for f in fields] == [f["name"] for f in _json(table)]
    pii = [f.name for f in fields if f.policy_tags is not None]
    assert pii == [f["name"] for f in _json(table) if "[PII]" in f["description"]]


@pytest.mark.parametrize("table", TABLES)
def test_ddl_matches_json_column_for_column(table: str):
    from_json = [(f["name"], f["type"], f["mode"]) for f in _json(table)]
    assert _ddl_columns(_ddl(table)) == from_json


@pytest.mark.parametrize("table", TABLES)
def test_json_matches_warehouse_contract(table: str):
    fields = CONTRACTS[table].DESCRIPTOR.fields
    assert [f["name"] for f in _json(table)] == [f.name for f in fields]
    for field, column in zip(fields, _json(table), strict=True):
        if field.is_repeated:
            assert column["mode"] == "REPEATED"


@pytest.mark.parametrize("table", TABLES)
def test_partitioning_and_clustering_as_the_seed_says(table: str):
    create = _ddl(table)
    assert create.this.this.name == table
    partition = create.find(exp.PartitionedByProperty)
    cluster = create.find(exp.ClusterProperty)
    assert partition is not None
    assert cluster is not None
    expected_partition, expected_cluster = SEED_LAYOUT[table]
    assert partition.this.name == expected_partition
    assert [c.name for c in cluster.expressions] == expected_cluster
    columns = {f["name"]: f for f in _json(table)}
    assert columns[expected_partition]["type"] == "DATE"


@pytest.mark.parametrize("table", TABLES)
def test_every_table_has_the_common_columns(table: str):
    columns = {f["name"]: f for f in _json(table)}
    types = [f["type"] for f in _json(table)]
    assert "DATE" in types
    assert "TIMESTAMP" in types
    assert columns["event_id"]["mode"] == "REQUIRED"
    ingestion = columns["ingestion_timestamp"]
    assert ingestion["type"] == "TIMESTAMP"
    assert ingestion["mode"] == "NULLABLE"
    assert ingestion["defaultValueExpression"] == "CURRENT_TIMESTAMP()"
    default = next(c for c in _ddl(table).this.expressions if c.name == "ingestion_timestamp").find(
        exp.DefaultColumnConstraint
    )
    assert default is not None
    assert isinstance(default.this, exp.CurrentTimestamp)


@pytest.mark.parametrize("table", TABLES)
def test_names_and_descriptions_obey_bigquery_rules(table: str):
    for column in _json(table):
        assert NAME.match(column["name"]), column["name"]
        assert not column["name"].upper().startswith(("_TABLE_", "_FILE_", "_PARTITION"))
        assert 0 < len(column["description"]) <= 1024, column["name"]
    table_description = _ddl(table).find(exp.Properties)
    assert table_description is not None
    assert "description" in table_description.sql(dialect="bigquery").lower()


def test_money_columns_are_numeric():
    for table in TABLES:
        for column in _json(table):
            if column["name"] in {"unit_price", "total_amount", "order_total"}:
                assert column["type"] == "NUMERIC", (table, column["name"])
