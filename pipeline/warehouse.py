"""The local warehouse: the generated BigQuery DDL and queries, translated to DuckDB by sqlglot."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import sqlglot
from sqlglot import expressions as exp

from pipeline.model import KEY_COLUMNS, TABLES

SQL_DIR: Final = Path(__file__).resolve().parent.parent / "sql"
DATASET: Final = "events"


def _numeric_precision(node: exp.Expression) -> exp.Expression:
    """BigQuery NUMERIC is DECIMAL(38, 9); sqlglot's bare DECIMAL would be DuckDB's (18, 3)."""
    if (
        isinstance(node, exp.DataType)
        and node.this == exp.DataType.Type.DECIMAL
        and not node.expressions
    ):
        return exp.DataType.build("DECIMAL(38, 9)", dialect="duckdb")
    return node


def duckdb_ddl(bigquery_ddl: str) -> str:
    """Translate one generated BigQuery ``CREATE TABLE`` to DuckDB.

    Column types, NOT NULL and defaults carry over; partitioning, clustering and
    descriptions have no DuckDB equivalent and are dropped.
    """
    statement = sqlglot.parse_one(bigquery_ddl, read="bigquery")
    for column in statement.find_all(exp.ColumnDef):
        column.set(
            "constraints",
            [c for c in column.constraints if not isinstance(c.kind, exp.Properties)],
        )
    properties = statement.args.get("properties")
    if properties is not None:
        properties.pop()
    statement = statement.transform(_numeric_precision)
    return str(statement.sql(dialect="duckdb"))


def translate_query(bigquery_sql: str) -> str:
    """Translate a BigQuery query (``sql/queries/*.sql``) to DuckDB."""
    return str(sqlglot.transpile(bigquery_sql, read="bigquery", write="duckdb")[0])


def create_tables(connection: Any, sql_dir: Path = SQL_DIR) -> None:
    """Create the ``events`` schema and every fact table (idempotent), keyed by row key."""
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {DATASET}")
    for table in TABLES:
        connection.execute(duckdb_ddl((sql_dir / f"{table}.sql").read_text()))
        connection.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_key ON {DATASET}.{table} "
            f"({KEY_COLUMNS[table]})"
        )
