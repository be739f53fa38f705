"""BigQuery's schema rules: one diff, typed changes, rendered as a tables-API patch and DuckDB DDL.

The compatibility gate renders the same changes as verdicts and migrations
(tests/contract/test_compatibility_catalogue.py holds its output).
"""

from __future__ import annotations

import copy
from typing import Any

import duckdb
import pytest
from google.cloud import bigquery

from ecom_warehouse.artifacts import WAREHOUSE_TABLES
from ecom_warehouse_runtime.schema_changes import (
    ColumnAdded,
    ColumnRemoved,
    DefaultChanged,
    DescriptionChanged,
    ModeChanged,
    ModeRelaxed,
    PolicyTagsChanged,
    RequiredColumnAdded,
    SchemaChange,
    TypeChanged,
    TypeWidened,
    diff,
)
from ops.infra.table_patch import conflicts, patched_schema, patches, with_policy_tag
from pipeline.warehouse import create_tables, evolve_tables, live_schema

LIVE: list[dict[str, Any]] = [
    {"name": "id", "type": "STRING", "mode": "REQUIRED", "description": "i"},
    {
        "name": "customer",
        "type": "RECORD",
        "mode": "NULLABLE",
        "description": "c",
        "fields": [
            {"name": "email", "type": "STRING", "mode": "REQUIRED", "description": "e"},
        ],
    },
    {"name": "legacy", "type": "STRING", "mode": "NULLABLE", "description": "kept"},
]


def _target() -> list[dict[str, Any]]:
    target = copy.deepcopy(LIVE[:2])
    target[0]["mode"] = "NULLABLE"
    target[1]["fields"][0]["mode"] = "NULLABLE"
    target[1]["fields"][0]["policyTags"] = {"names": ["projects/p/taxonomies/t/policyTags/pii"]}
    target[1]["fields"].append(
        {"name": "tier", "type": "STRING", "mode": "NULLABLE", "description": "t"}
    )
    target[1]["description"] = "customer"
    target.append(
        {
            "name": "stored_at",
            "type": "TIMESTAMP",
            "mode": "NULLABLE",
            "description": "s",
            "defaultValueExpression": "CURRENT_TIMESTAMP()",
        }
    )
    return target


def _kinds(changes: list[SchemaChange]) -> list[tuple[type[SchemaChange], str]]:
    return [(type(change), change.column) for change in changes]


def test_the_diff_finds_every_change_in_order():
    changes = diff(LIVE, _target())
    assert _kinds(changes) == [
        (ModeRelaxed, "id"),
        (DescriptionChanged, "customer"),
        (ModeRelaxed, "customer.email"),
        (PolicyTagsChanged, "customer.email"),
        (ColumnAdded, "customer.tier"),
        (ColumnRemoved, "legacy"),
        (ColumnAdded, "stored_at"),
        (DefaultChanged, "stored_at"),
    ]
    assert [change.in_place for change in changes] == [True] * 5 + [False] + [True] * 2
    added = changes[6]
    assert isinstance(added, ColumnAdded)
    assert "defaultValueExpression" not in added.field  # added first, default set after
    assert changes[7] == DefaultChanged(("stored_at",), "", "CURRENT_TIMESTAMP()")
    assert diff(LIVE, LIVE) == []


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("INTEGER", "NUMERIC", TypeWidened),
        ("NUMERIC", "FLOAT", TypeWidened),
        ("NUMERIC", "INTEGER", TypeChanged),
        ("STRING", "BYTES", TypeChanged),
    ],
)
def test_only_the_widenings_bigquery_makes_in_place_widen(
    before: str, after: str, expected: type[SchemaChange]
):
    column = {"name": "amount", "type": before, "mode": "REQUIRED", "description": "a"}
    (change,) = diff([column], [{**column, "type": after}])
    assert isinstance(change, expected)
    assert change.in_place is (expected is TypeWidened)


def test_inside_a_record_no_type_widens_and_no_default_is_compared():
    record = copy.deepcopy(LIVE[1])
    record["fields"].append({"name": "n", "type": "INTEGER", "mode": "NULLABLE"})
    changed = copy.deepcopy(record)
    changed["fields"][0]["defaultValueExpression"] = "'unknown'"
    changed["fields"][1]["type"] = "NUMERIC"
    assert _kinds(diff([record], [changed])) == [(TypeChanged, "customer.n")]
    changed["fields"].append({"name": "m", "type": "STRING", "defaultValueExpression": "'x'"})
    assert _kinds(diff([record], [changed]))[1:] == [(ColumnAdded, "customer.m")]


def test_a_column_whose_type_cannot_convert_has_no_other_change():
    retyped = {**LIVE[0], "type": "BYTES", "mode": "NULLABLE", "description": "other"}
    assert diff([LIVE[0]], [retyped]) == [TypeChanged(("id",), "STRING", "BYTES")]


def test_types_are_compared_only_where_both_schemas_state_one():
    untyped = [{"name": "id", "mode": "REQUIRED", "description": "i"}]
    assert diff(untyped, LIVE[:1]) == []


def test_refusals_are_reported_not_patched():
    target = copy.deepcopy(LIVE)
    target[0]["type"] = "BYTES"
    target[2]["mode"] = "REQUIRED"
    target.append({"name": "new", "type": "STRING", "mode": "REQUIRED"})
    changes = diff(LIVE, target)
    assert _kinds(changes) == [
        (TypeChanged, "id"),
        (ModeChanged, "legacy"),
        (RequiredColumnAdded, "new"),
    ]
    assert not any(change.in_place for change in changes)
    assert patches(changes) == []
    assert conflicts(changes) == [
        "id: live type STRING, generated BYTES (a widening is a migration; anything else "
        "cannot change in place)",
        "legacy: live mode NULLABLE, generated REQUIRED",
        "new: a new REQUIRED column cannot be added in place",
    ]


def test_the_patch_keeps_live_columns_and_appends_new_ones_then_sets_defaults():
    without_defaults, defaults = patches(diff(LIVE, _target()))
    assert all(isinstance(change, DefaultChanged) for change in defaults)
    first = patched_schema(LIVE, without_defaults)
    assert [f["name"] for f in first] == ["id", "customer", "legacy", "stored_at"]
    assert "defaultValueExpression" not in first[3]
    assert [f["name"] for f in first[1]["fields"]] == ["email", "tier"]
    assert first[1]["fields"][0]["mode"] == "NULLABLE"
    second = patched_schema(first, defaults)
    assert second[3]["defaultValueExpression"] == "CURRENT_TIMESTAMP()"
    # The result is what the tables API takes: the client library's SchemaField round-trips it.
    fields = [bigquery.SchemaField.from_api_repr(f) for f in second]
    assert fields[3].default_value_expression == "CURRENT_TIMESTAMP()"
    assert fields[1].fields[0].policy_tags == bigquery.PolicyTagList(
        names=["projects/p/taxonomies/t/policyTags/pii"]
    )
    assert patches(diff(second, _target())) == []  # applied: nothing left to do


def test_policy_tag_placeholders_are_filled_or_dropped():
    placeholder = "projects/{project}/taxonomies/{taxonomy}"
    fields = [{"name": "a", "fields": [{"name": "b", "policyTags": {"names": [placeholder]}}]}]
    tagged = with_policy_tag(fields, placeholder, "projects/p/taxonomies/1/policyTags/2")
    assert tagged[0]["fields"][0]["policyTags"] == {
        "names": ["projects/p/taxonomies/1/policyTags/2"]
    }
    assert "policyTags" not in with_policy_tag(fields, placeholder, "")[0]["fields"][0]


def test_duckdb_follows_nested_additions_and_defaults(monkeypatch: pytest.MonkeyPatch):
    connection = duckdb.connect()
    create_tables(connection, migrations={})
    # A warehouse made by an older revision: no default on ingestion_timestamp, and a
    # RECORD column whose newest field is missing.
    connection.execute("DROP INDEX events.fact_inventory_key")
    connection.execute(
        "ALTER TABLE events.fact_inventory ALTER COLUMN ingestion_timestamp DROP DEFAULT"
    )
    connection.execute("ALTER TABLE events.fact_inventory ADD COLUMN supplier STRUCT(name VARCHAR)")
    connection.execute("CREATE UNIQUE INDEX fact_inventory_key ON events.fact_inventory (event_id)")
    target = copy.deepcopy(WAREHOUSE_TABLES["fact_inventory"]["api"]["schema"]["fields"])
    target.append(
        {
            "name": "supplier",
            "type": "RECORD",
            "mode": "NULLABLE",
            "fields": [
                {"name": "name", "type": "STRING", "mode": "NULLABLE"},
                {"name": "country", "type": "STRING", "mode": "NULLABLE"},
            ],
        }
    )
    tables = {**WAREHOUSE_TABLES}
    tables["fact_inventory"] = {
        **tables["fact_inventory"],
        "api": {**tables["fact_inventory"]["api"], "schema": {"fields": target}},
    }
    monkeypatch.setattr("pipeline.warehouse.WAREHOUSE_TABLES", tables)
    applied = evolve_tables(connection)
    assert evolve_tables(connection) == []  # converged
    assert applied == [
        "ALTER TABLE events.fact_inventory ALTER COLUMN ingestion_timestamp SET DEFAULT "
        "CURRENT_TIMESTAMP",
        "ALTER TABLE events.fact_inventory ADD COLUMN supplier.country TEXT",
    ]
    live = {f["name"]: f for f in live_schema(connection, "fact_inventory")}
    assert [f["name"] for f in live["supplier"]["fields"]] == ["name", "country"]
    connection.execute(
        "INSERT INTO events.fact_inventory (event_id, event_date, event_timestamp, product_id, "
        "warehouse_id, quantity_change, reason) VALUES "
        "('e', DATE '2025-12-01', TIMESTAMP '2025-12-01 10:00:00', 'p', 'w', 1, 'restock')"
    )
    stamps = connection.execute("SELECT ingestion_timestamp FROM events.fact_inventory").fetchall()
    assert stamps[0][0] is not None  # the default now fills it
