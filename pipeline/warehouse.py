"""The local warehouse: the generated BigQuery DDL, views and queries, translated to DuckDB.

Everything comes from the generated artifacts module (``ecom_warehouse.artifacts``), so
an installed package needs no checkout. A warehouse created by an older
revision is brought up to date the way ``ops.infra`` brings BigQuery: the
pending migrations (DDL), then the schema changes DDL cannot express in
BigQuery (fields added inside RECORDs, column defaults; the changes of
``ecom_warehouse_runtime.schema_changes``, rendered as DuckDB DDL), then the
deduplicated views.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import sqlglot
from sqlglot import expressions as exp

from ecom_warehouse.artifacts import MIGRATIONS, WAREHOUSE_TABLES
from ecom_warehouse_runtime.schema_changes import ColumnAdded, DefaultChanged, SchemaChange, diff
from pipeline.model import TABLES

DATASET: Final = "events"
Field = dict[str, Any]


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


def duckdb_view(bigquery_view: str) -> str:
    """Translate a generated ``CREATE OR REPLACE VIEW`` (a deduplicated view) to DuckDB."""
    statement = sqlglot.parse_one(bigquery_view, read="bigquery")
    properties = statement.args.get("properties")
    if properties is not None:
        properties.pop()
    return str(statement.sql(dialect="duckdb"))


def translate_query(bigquery_sql: str) -> str:
    """Translate a BigQuery query (``sql/queries/*.sql``) to DuckDB."""
    return str(sqlglot.transpile(bigquery_sql, read="bigquery", write="duckdb")[0])


def migration_statements(bigquery_migration: str) -> list[str]:
    """Translate a generated migration (``migrations/NNNN.sql``) to DuckDB statements.

    Description changes (``SET OPTIONS``) have no DuckDB counterpart and are
    left out, as are notes of changes made through the tables API (comments).
    """
    statements = []
    kept = "\n".join(line for line in bigquery_migration.splitlines() if "SET OPTIONS" not in line)
    for statement in sqlglot.parse(kept, read="bigquery"):
        if not isinstance(statement, exp.Alter):
            continue
        statement = statement.transform(_numeric_precision)
        statements.append(str(statement.sql(dialect="duckdb", comments=False)))
    return statements


def apply_migrations(connection: Any, migrations: Mapping[int, str] = MIGRATIONS) -> list[int]:
    """Apply the migrations not yet recorded in ``events._migrations``; return their numbers."""
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {DATASET}._migrations "
        "(number INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP)"
    )
    done = {
        row[0] for row in connection.execute(f"SELECT number FROM {DATASET}._migrations").fetchall()
    }
    applied = []
    for number, text in sorted(migrations.items()):
        if number in done:
            continue
        for statement in migration_statements(text):
            _alter(connection, statement)
        connection.execute(f"INSERT INTO {DATASET}._migrations (number) VALUES (?)", [number])
        applied.append(number)
    return applied


_STRUCT_FIELD: Final = re.compile(r'\s*("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)\s+')


def _duckdb_type_fields(type_text: str) -> tuple[str, list[Field]]:
    """Return (mode, nested fields) of a DuckDB type such as ``STRUCT(a INTEGER, b VARCHAR)[]``."""
    mode = "NULLABLE"
    if type_text.endswith("[]"):
        mode, type_text = "REPEATED", type_text[:-2]
    if not type_text.startswith("STRUCT("):
        return mode, []
    inner, depth, start = type_text[len("STRUCT(") : -1], 0, 0
    fields: list[Field] = []
    parts = []
    for index, char in enumerate(inner):
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(inner[start:index])
            start = index + 1
    parts.append(inner[start:])
    for part in parts:
        match = _STRUCT_FIELD.match(part)
        if match is None:
            continue
        name = match.group(1).strip('"').replace('""', '"')
        nested_mode, nested = _duckdb_type_fields(part[match.end() :].strip())
        field: Field = {"name": name, "mode": nested_mode}
        if nested:
            field["fields"] = nested
        fields.append(field)
    return mode, fields


def live_schema(connection: Any, table: str) -> list[Field]:
    """Return a DuckDB table's columns as BigQuery-shaped fields (names, modes, nesting)."""
    rows = connection.execute(
        "SELECT column_name, data_type, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [DATASET, table],
    ).fetchall()
    fields: list[Field] = []
    for name, data_type, nullable, default in rows:
        mode, nested = _duckdb_type_fields(data_type)
        field: Field = {"name": name, "mode": "REQUIRED" if nullable == "NO" else mode}
        if nested:
            field["fields"] = nested
        if default is not None:
            field["defaultValueExpression"] = default
        fields.append(field)
    return fields


_GOOGLESQL_TYPES: Final = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}


def _googlesql_type(field: Field) -> str:
    """Return the GoogleSQL type of a BigQuery JSON schema field."""
    if field.get("fields"):
        inner = ", ".join(f"{f['name']} {_googlesql_type(f)}" for f in field["fields"])
        element = f"STRUCT<{inner}>"
    else:
        element = str(_GOOGLESQL_TYPES.get(field["type"], field["type"]))
    return f"ARRAY<{element}>" if field.get("mode") == "REPEATED" else element


def _duckdb_type(field: Field) -> str:
    """Return the DuckDB type of a BigQuery field (NUMERIC as DECIMAL(38, 9))."""
    built = exp.DataType.build(_googlesql_type(field), dialect="bigquery")
    return str(built.transform(_numeric_precision).sql(dialect="duckdb"))


def _duckdb_expression(text: str, dialect: str) -> str:
    """Return an SQL expression in DuckDB's spelling, so defaults compare across dialects."""
    return str(sqlglot.parse_one(text, read=dialect).sql(dialect="duckdb"))


def _duckdb_defaults(fields: list[Field], dialect: str) -> list[Field]:
    result = []
    for field in fields:
        if field.get("defaultValueExpression"):
            expression = _duckdb_expression(field["defaultValueExpression"], dialect)
            field = {**field, "defaultValueExpression": expression}
        result.append(field)
    return result


def schema_statements(table: str, changes: list[SchemaChange]) -> list[str]:
    """Return the DuckDB DDL of the in-place changes (added columns and fields, defaults).

    Relaxing a nested field needs nothing in DuckDB (STRUCT fields carry no
    NOT NULL); top-level relaxations and type widenings come with the
    migrations; DuckDB keeps no descriptions or policy tags; what BigQuery
    cannot change in place the gate never lets through.
    """
    statements = []
    target = f"{DATASET}.{table}"
    for change in changes:
        if isinstance(change, ColumnAdded):
            statements.append(
                f"ALTER TABLE {target} ADD COLUMN {change.column} "
                f"{_duckdb_type(dict(change.field))}"
            )
        elif isinstance(change, DefaultChanged):
            statements.append(
                f"ALTER TABLE {target} ALTER COLUMN {change.column} SET DEFAULT {change.after}"
                if change.after
                else f"ALTER TABLE {target} ALTER COLUMN {change.column} DROP DEFAULT"
            )
    return statements


def evolve_tables(connection: Any) -> list[str]:
    """Apply the generated schemas' in-place changes to the DuckDB tables; return the DDL run."""
    applied = []
    for table in TABLES:
        target = _duckdb_defaults(WAREHOUSE_TABLES[table]["api"]["schema"]["fields"], "bigquery")
        live = _duckdb_defaults(live_schema(connection, table), "duckdb")
        for statement in schema_statements(table, diff(live, target)):
            _alter(connection, statement)
            applied.append(statement)
    return applied


_ALTERED: Final = re.compile(r'^ALTER TABLE "?events"?\."?(\w+)"?', re.IGNORECASE)


def _alter(connection: Any, statement: str) -> None:
    """Run an ``ALTER TABLE``; DuckDB alters no table an index depends on, so rebuild its key."""
    match = _ALTERED.match(statement)
    table = match.group(1) if match else ""
    if table in WAREHOUSE_TABLES:
        connection.execute(f"DROP INDEX IF EXISTS {DATASET}.{table}_key")
    connection.execute(statement)
    if table in WAREHOUSE_TABLES:
        _create_key_index(connection, table)


def _create_key_index(connection: Any, table: str) -> None:
    connection.execute(
        f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_key ON {DATASET}.{table} "
        f"({WAREHOUSE_TABLES[table]['key_column']})"
    )


def create_tables(connection: Any, migrations: Mapping[int, str] = MIGRATIONS) -> None:
    """Create the ``events`` schema, every fact table and its deduplicated view; evolve old ones.

    Idempotent. Tables are created from the current DDL, keyed by row key; a
    warehouse created by an earlier revision is brought up to date by the
    pending ``migrations``, then by the in-place schema changes DDL cannot
    express in BigQuery, exactly as ``ops.infra`` does on BigQuery.
    """
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {DATASET}")
    for table in TABLES:
        connection.execute(duckdb_ddl(WAREHOUSE_TABLES[table]["ddl"]))
        _create_key_index(connection, table)
    apply_migrations(connection, migrations)
    evolve_tables(connection)
    for table in TABLES:
        connection.execute(duckdb_view(WAREHOUSE_TABLES[table]["view_ddl"]))
