"""The local warehouse: the generated BigQuery DDL and queries, translated to DuckDB by sqlglot."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import sqlglot
from sqlglot import expressions as exp

from pipeline.model import KEY_COLUMNS, TABLES

SQL_DIR: Final = Path(__file__).resolve().parent.parent / "sql"
MIGRATIONS_DIR: Final = Path(__file__).resolve().parent.parent / "migrations"
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


def migration_statements(bigquery_migration: str) -> list[str]:
    """Translate a generated migration (``migrations/NNNN.sql``) to DuckDB statements.

    Description changes (``SET OPTIONS``) and schema updates DDL cannot express
    (comments only) have no DuckDB counterpart and are left out.
    """
    statements = []
    kept = "\n".join(line for line in bigquery_migration.splitlines() if "SET OPTIONS" not in line)
    for statement in sqlglot.parse(kept, read="bigquery"):
        if not isinstance(statement, exp.Alter):
            continue
        statement = statement.transform(_numeric_precision)
        statements.append(str(statement.sql(dialect="duckdb", comments=False)))
    return statements


def apply_migrations(connection: Any, migrations_dir: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply the migrations not yet recorded in ``events._migrations``; return their numbers."""
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {DATASET}._migrations "
        "(number INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP)"
    )
    done = {
        row[0] for row in connection.execute(f"SELECT number FROM {DATASET}._migrations").fetchall()
    }
    applied = []
    for path in sorted(migrations_dir.glob("[0-9][0-9][0-9][0-9].sql")):
        number = int(path.stem)
        if number in done:
            continue
        for statement in migration_statements(path.read_text()):
            connection.execute(statement)
        connection.execute(f"INSERT INTO {DATASET}._migrations (number) VALUES (?)", [number])
        applied.append(number)
    return applied


def create_tables(
    connection: Any, sql_dir: Path = SQL_DIR, migrations_dir: Path = MIGRATIONS_DIR
) -> None:
    """Create the ``events`` schema and every fact table, then apply pending migrations.

    Idempotent. Tables are created from the current DDL, keyed by row key; a
    warehouse created by an earlier revision is brought up to date by the
    migrations (each statement is idempotent, so a fresh one takes them too).
    """
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {DATASET}")
    for table in TABLES:
        connection.execute(duckdb_ddl((sql_dir / f"{table}.sql").read_text()))
        connection.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_key ON {DATASET}.{table} "
            f"({KEY_COLUMNS[table]})"
        )
    apply_migrations(connection, migrations_dir)
