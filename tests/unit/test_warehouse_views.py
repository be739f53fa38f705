"""The deduplicated views: one row per row key, the earliest ingested, on DuckDB as on BigQuery."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from ecom_warehouse.artifacts import WAREHOUSE_TABLES
from pipeline.warehouse import create_tables, duckdb_view

ROOT = Path(__file__).resolve().parents[2]


def _insert(connection: duckdb.DuckDBPyConnection, event_id: str, day: str, at: str, who: str):
    connection.execute(
        "INSERT INTO events.fact_inventory (event_id, event_date, event_timestamp, product_id, "
        "warehouse_id, quantity_change, reason, ingestion_timestamp) VALUES "
        "(?, ?, TIMESTAMP '2025-12-01 10:00:00', 'p', ?, 1, 'restock', ?)",
        [event_id, day, who, at],
    )


def test_the_view_keeps_one_row_per_key_the_earliest_ingested():
    connection = duckdb.connect()
    create_tables(connection, migrations={})
    # BigQuery has no unique index: a redelivery past the insert-id window adds a row again.
    connection.execute("DROP INDEX events.fact_inventory_key")
    _insert(connection, "e1", "2025-12-01", "2025-12-01 10:00:05", "second")
    _insert(connection, "e1", "2025-12-01", "2025-12-01 10:00:01", "first")
    _insert(connection, "e1", "2025-12-01", "2025-12-01 10:09:00", "third")
    _insert(connection, "e2", "2025-12-01", "2025-12-01 10:00:02", "only")
    rows = connection.execute(
        "SELECT event_id, warehouse_id FROM events.fact_inventory_dedup ORDER BY 1"
    ).fetchall()
    assert rows == [("e1", "first"), ("e2", "only")]
    total = connection.execute("SELECT count(*) FROM events.fact_inventory").fetchall()
    assert total == [(4,)]


def test_every_table_has_its_view_and_queries_read_views():
    connection = duckdb.connect()
    create_tables(connection, migrations={})
    views = {
        row[0]
        for row in connection.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = 'events'"
        ).fetchall()
    }
    assert views == {spec["view"] for spec in WAREHOUSE_TABLES.values()}
    for spec in WAREHOUSE_TABLES.values():
        assert "QUALIFY" in duckdb_view(spec["view_ddl"])
    for query in sorted((ROOT / "sql" / "queries").glob("*.sql")):
        named = set(re.findall(r"events\.(\w+)", query.read_text()))
        assert named, query.name
        assert all(name.endswith("_dedup") for name in named), (query.name, named)


def _dedup_winner(order: list[tuple[str, int]]) -> tuple[str, int]:
    """Insert two rows of one key with the same ingestion time, in ``order``; return the kept."""
    connection = duckdb.connect()
    create_tables(connection, migrations={})
    connection.execute("DROP INDEX events.fact_inventory_key")
    for warehouse, quantity in order:
        connection.execute(
            "INSERT INTO events.fact_inventory (event_id, event_date, event_timestamp, "
            "product_id, warehouse_id, quantity_change, reason, ingestion_timestamp) VALUES "
            "('e1', DATE '2025-12-01', TIMESTAMP '2025-12-01 10:00:00', 'p', ?, ?, 'restock', "
            "TIMESTAMP '2025-12-01 10:00:05')",
            [warehouse, quantity],
        )
    (winner,) = connection.execute(
        "SELECT warehouse_id, quantity_change FROM events.fact_inventory_dedup"
    ).fetchall()
    return winner


def test_a_tie_on_ingestion_time_has_the_same_winner_whatever_the_insertion_order():
    # One write request stamps its rows with one DEFAULT CURRENT_TIMESTAMP(): two copies of a
    # key can tie, and the view must not keep whichever the storage happens to return first.
    rows = [("wh-b", 1), ("wh-a", 7)]
    assert _dedup_winner(rows) == _dedup_winner(rows[::-1])


def test_the_views_break_ingestion_time_ties_by_the_whole_row():
    for spec in WAREHOUSE_TABLES.values():
        assert re.search(
            r"ORDER BY ingestion_timestamp, TO_JSON_STRING\((\w+)\)\) = 1", spec["view_ddl"]
        ), spec["view"]
