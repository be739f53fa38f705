"""BigQuery: the dataset, tables through the tables API, migrations, in-place schema changes, views.

A missing table is created from its generated schema (``bigquery.Table``:
schema, daily partitioning, clustering, description). Migrations run as DDL
jobs (every statement idempotent). The schema step then reads the live
table and patches it to the generated schema wherever BigQuery allows it in
place (the changes of ``ecom_warehouse_runtime.schema_changes``, rendered as
patches by :mod:`ops.infra.table_patch`): fields added inside RECORDs,
relaxed modes, descriptions, policy tags; a new column's default is set in a
second patch, after the column exists. What cannot change in place is a
warning.
"""

from __future__ import annotations

import functools
from typing import Any

from google.api_core import exceptions
from google.cloud import bigquery

from ecom_warehouse_runtime.schema_changes import diff
from ops.infra.context import Context
from ops.infra.settings import Step
from ops.infra.table_patch import Field, conflicts, describe, patched_schema, patches


def ensure_dataset(context: Context, step: Step) -> list[str]:
    """Create the dataset if missing; warn when it lives in another location."""
    wanted: bigquery.Dataset = step.request
    try:
        current = context.clients.bigquery.get_dataset(wanted.reference)
    except exceptions.NotFound:
        context.change("create", lambda: context.clients.bigquery.create_dataset(wanted))
        return [f"create in {wanted.location}"]
    if (current.location or "").lower() != (wanted.location or "").lower():
        context.warn(
            f"{step.name} is in {current.location}, not {wanted.location}: the job writes "
            "across locations only if you change --region or the dataset"
        )
    return []


def ensure_table(context: Context, step: Step) -> list[str]:
    """Create the table through the tables API if missing; warn on a different layout."""
    wanted: bigquery.Table = step.request
    try:
        current = context.clients.bigquery.get_table(wanted.reference)
    except exceptions.NotFound:
        context.change("create", lambda: context.clients.bigquery.create_table(wanted))
        return ["create"]
    layout = {
        "partitioning": (_partitioning(current), _partitioning(wanted)),
        "clustering": (current.clustering_fields, wanted.clustering_fields),
    }
    for what, (live, planned) in layout.items():
        if live != planned:
            context.warn(f"{step.name}: live {what} {live}, generated {planned} (kept as is)")
    if layout["partitioning"][0] == layout["partitioning"][1] and _expiration(current) != (
        planned := _expiration(wanted)
    ):
        current.time_partitioning.expiration_ms = planned
        context.change(
            "patch",
            functools.partial(
                context.clients.bigquery.update_table, current, ["time_partitioning"]
            ),
        )
        days = int(planned) // 86_400_000 if planned else 0
        return [f"partitions expire after {days} days" if days else "partitions never expire"]
    return []


def _expiration(table: bigquery.Table) -> int | None:
    partitioning = table.time_partitioning
    expiration = partitioning.expiration_ms if partitioning is not None else None
    return int(expiration) if expiration else None


def _partitioning(table: bigquery.Table) -> tuple[str, str] | None:
    partitioning = table.time_partitioning
    return None if partitioning is None else (partitioning.type_, partitioning.field)


def _applied_migrations(context: Context, ledger: str) -> set[int]:
    """Return the migration numbers ``ledger`` records (none before it exists)."""
    try:
        rows = context.clients.bigquery.query(f"SELECT number FROM `{ledger}`").result()
    except exceptions.NotFound:
        return set()
    return {int(row[0]) for row in rows}


def ensure_migration(context: Context, step: Step) -> list[str]:
    """Run a migration not yet recorded in the dataset's ``_migrations`` table, then record it.

    Every statement is idempotent, so a migration that ran but was not
    recorded (the command stopped in between) is harmless to run again.
    """
    number, ledger = step.context["number"], step.context["ledger"]
    if number in _applied_migrations(context, ledger):
        return []
    client = context.clients.bigquery
    context.change(
        "create ledger",
        lambda: client.query(
            f"CREATE TABLE IF NOT EXISTS `{ledger}` (number INT64 NOT NULL, "
            "applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP())"
        ).result(),
    )
    context.change("run", lambda: client.query(step.request).result())
    context.change(
        "record",
        lambda: client.query(f"INSERT INTO `{ledger}` (number) VALUES ({int(number)})").result(),
    )
    return [f"run migration {number:04d} and record it in {ledger}"]


def _normalized(fields: list[Field]) -> list[Field]:
    """Drop empty values the API leaves out, so live and generated schemas compare."""
    result = []
    for field in fields:
        kept = {k: v for k, v in field.items() if v not in (None, "", [], {})}
        if "fields" in kept:
            kept["fields"] = _normalized(kept["fields"])
        result.append(kept)
    return result


def ensure_table_schema(context: Context, step: Step) -> list[str]:
    """Patch the live table's schema to the generated one wherever BigQuery allows it in place."""
    wanted: bigquery.Table = step.request
    try:
        table = context.clients.bigquery.get_table(wanted.reference)
    except exceptions.NotFound:
        return [] if not context.changes else ["(table missing)"]
    live = _normalized([field.to_api_repr() for field in table.schema])
    target = _normalized([field.to_api_repr() for field in wanted.schema])
    changes = diff(live, target)
    for conflict in conflicts(changes):
        context.warn(f"{step.name.removesuffix(': schema')}.{conflict}")
    actions = []
    for phase in patches(changes):
        live = patched_schema(live, phase)
        table.schema = [bigquery.SchemaField.from_api_repr(field) for field in live]
        updated: Any = context.change(
            "patch", functools.partial(context.clients.bigquery.update_table, table, ["schema"])
        )
        if updated is not None:
            table = updated
        actions.append("; ".join(describe(change) for change in phase))
    return actions


def _view_query(ddl: str) -> str:
    """Return the SELECT of a generated ``CREATE OR REPLACE VIEW ... AS SELECT ...;``."""
    return ddl.split("\nAS ", 1)[1].strip().removesuffix(";")


def ensure_view(context: Context, step: Step) -> list[str]:
    """Create or replace the deduplicated view when its query differs from the generated one."""
    reference = step.name
    try:
        current = context.clients.bigquery.get_table(reference)
    except exceptions.NotFound:
        current = None
    if current is not None and (current.view_query or "").strip() == _view_query(step.request):
        return []
    context.change("replace", lambda: context.clients.bigquery.query(step.request).result())
    return ["create" if current is None else "replace (query changed)"]
