"""The compatibility gate: whether live BigQuery tables and Pub/Sub schemas take a change.

buf's breaking-change check guards the wire format; this guards the
warehouse and the Pub/Sub revision rules. A change from an older revision of
a contract to the working tree yields findings, each ``allowed`` (with the
migration DDL it needs, if any), ``warning`` (allowed, but some messages
may now be dead-lettered; see :mod:`contracts.rules`) or ``refused`` (with a
one-line reason naming table, column and rule).

Allowed: adding a NULLABLE or REPEATED column or RECORD field, relaxing
REQUIRED to NULLABLE, widening BigQuery performs in place (INT64 to NUMERIC,
BIGNUMERIC or FLOAT64; NUMERIC to BIGNUMERIC or FLOAT64), description
changes. Refused: removing or renaming a column, any other type change,
tightening a mode, a new REQUIRED column, changing partitioning or
clustering. For Pub/Sub schemas a revision may only add or remove fields.

The column rules are BigQuery's, written once: one diff of the two schemas
(``ecom_warehouse_runtime.schema_changes``, which ``ops.infra`` and the local
warehouse apply too) yields typed changes, and this module renders each as a
verdict and its migration DDL.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Final

from google.protobuf import descriptor

from contracts.bigquery_schema import Column, Table
from contracts.ddl import column_type, quote
from ecom_warehouse_runtime.schema_changes import (
    ColumnAdded,
    ColumnRemoved,
    DefaultChanged,
    DescriptionChanged,
    ModeChanged,
    ModeRelaxed,
    RequiredColumnAdded,
    SchemaChange,
    TypeChanged,
    TypeWidened,
    diff,
)

ALLOWED: Final = "allowed"
WARNING: Final = "warning"
"""Allowed, but worth a reader's attention (printed by ``make proto``, never refusing)."""
REFUSED: Final = "refused"

_DDL_TYPES: Final = {"NUMERIC": "NUMERIC", "BIGNUMERIC": "BIGNUMERIC", "FLOAT": "FLOAT64"}


@dataclass(frozen=True)
class Finding:
    """One verdict of the gate about one table, column or field."""

    verdict: str
    subject: str
    """What it is about: ``table.column`` or ``Message.field``."""
    rule: str
    """The rule, in a few words."""
    migration: str = ""
    """The DDL an allowed change needs (empty when none or not expressible in DDL)."""

    def line(self) -> str:
        """Return the one-line message."""
        return f"{self.verdict}: {self.subject}: {self.rule}"


def compare_tables(old: Table, new: Table, dataset: str = "events") -> list[Finding]:
    """Return the findings for changing table ``old`` into ``new``."""
    findings = []
    if old.partition_column != new.partition_column:
        findings.append(
            Finding(
                REFUSED,
                new.name,
                f"partitioning changed from {old.partition_column} to {new.partition_column}; "
                "BigQuery cannot repartition a table in place",
            )
        )
    if old.clustering_columns != new.clustering_columns:
        findings.append(
            Finding(
                REFUSED,
                new.name,
                f"clustering changed from {', '.join(old.clustering_columns)} to "
                f"{', '.join(new.clustering_columns)}; existing data stays clustered the old way",
            )
        )
    target = f"`{dataset}.{new.name}`"
    findings += _column_findings(old, new, target)
    if old.description != new.description:
        findings.append(
            Finding(
                ALLOWED,
                new.name,
                "table description changed",
                f"ALTER TABLE {target} SET OPTIONS (description = {quote(new.description)});",
            )
        )
    return findings


def _column_findings(old: Table, new: Table, target: str) -> list[Finding]:
    """Return the findings of the columns: each change of one schema diff, rendered."""
    findings: list[Finding] = []
    added_at: dict[tuple[str, ...], int] = {}  # each new column's finding: its default joins it
    before = [column.to_api_repr() for column in old.columns]
    after = [column.to_api_repr() for column in new.columns]
    for change in diff(before, after):
        if isinstance(change, DefaultChanged) and change.path in added_at:
            index = added_at[change.path]
            findings[index] = _with_default(findings[index], change, target)
            continue
        finding = _finding(change, f"{new.name}.{change.column}", old, new, target)
        if finding is None:
            continue
        if isinstance(change, ColumnAdded):
            added_at[change.path] = len(findings)
        findings.append(finding)
    return findings


def _with_default(added: Finding, change: DefaultChanged, target: str) -> Finding:
    """Return the finding of a new column with the statement setting its default after it."""
    return dataclasses.replace(
        added,
        migration=f"{added.migration}\nALTER TABLE {target} ALTER COLUMN {change.path[-1]} "
        f"SET DEFAULT {change.after};",
    )


def _finding(
    change: SchemaChange, subject: str, old: Table, new: Table, target: str
) -> Finding | None:
    """Return the verdict, rule and migration of one change of a table's columns."""
    match change:
        case ColumnRemoved():
            return Finding(REFUSED, subject, _removed_rule(change, old, new))
        case RequiredColumnAdded():
            return Finding(
                REFUSED,
                subject,
                "new REQUIRED column; rows written without it (older revisions) would be "
                "refused: add it NULLABLE",
            )
        case ColumnAdded():
            return _added_finding(change, subject, _column_at(new, change.path), target)
        case TypeWidened():
            return Finding(
                ALLOWED,
                subject,
                f"type widened from {change.before} to {change.after}",
                f"ALTER TABLE {target} ALTER COLUMN {_name_in(new, change)} SET DATA TYPE "
                f"{_DDL_TYPES[change.after]};",
            )
        case TypeChanged():
            return Finding(
                REFUSED,
                subject,
                f"type changed from {change.before} to {change.after}; "
                "BigQuery cannot convert the column in place",
            )
        case ModeRelaxed():
            return Finding(
                ALLOWED,
                subject,
                "mode relaxed from REQUIRED to NULLABLE",
                _relaxed(change, new, target),
            )
        case ModeChanged():
            return Finding(
                REFUSED,
                subject,
                f"mode changed from {change.before} to {change.after}; BigQuery only relaxes "
                "REQUIRED to NULLABLE",
            )
        case DefaultChanged():
            return Finding(
                ALLOWED,
                subject,
                f"default changed from {change.before or 'none'} to {change.after or 'none'} "
                "(rows written from now on)",
                f"ALTER TABLE {target} ALTER COLUMN {_name_in(new, change)} "
                + (f"SET DEFAULT {change.after};" if change.after else "DROP DEFAULT;"),
            )
        case DescriptionChanged():
            migration = (
                ""
                if change.nested
                else f"ALTER TABLE {target} ALTER COLUMN {_name_in(new, change)} SET OPTIONS "
                f"(description = {quote(change.after)});"
            )
            return Finding(ALLOWED, subject, "description changed", migration)
    return None  # policy tags follow the PII marking: ops.infra sets them, no verdict needed


def _removed_rule(change: ColumnRemoved, old: Table, new: Table) -> str:
    """Say whether a column that is gone was renamed (its field number lives on) or removed."""
    before = _column_at(old, change.path)
    old_names = {column.name.lower() for column in _siblings(old, change.path)}
    renamed = next(
        (
            column
            for column in _siblings(new, change.path)
            if column.number == before.number and column.name.lower() not in old_names
        ),
        None,
    )
    if renamed is not None:
        return f"column renamed to {renamed.name}; BigQuery sees a removed and a new column"
    return "column removed; the live table keeps it and BigQuery cannot drop it for the pipeline"


def _added_finding(change: ColumnAdded, subject: str, column: Column, target: str) -> Finding:
    """Allow a new NULLABLE or REPEATED column: DDL at the top level, the tables API inside."""
    if change.nested:
        return Finding(
            ALLOWED,
            subject,
            f"new {column.mode} field in a RECORD",
            f"-- {change.column} {column_type(column)}: added to {target} by "
            "`python -m ops.infra` through the tables API (DDL cannot add a field inside "
            "a RECORD); the local warehouse adds it too",
        )
    return Finding(
        ALLOWED,
        subject,
        f"new {column.mode} column",
        f"ALTER TABLE {target} ADD COLUMN IF NOT EXISTS {column.name} {column_type(column)} "
        f"OPTIONS (description = {quote(column.description)});",
    )


def _relaxed(change: ModeRelaxed, new: Table, target: str) -> str:
    """Return the migration relaxing a mode: DDL at the top level, the tables API inside."""
    if change.nested:
        return (
            f"-- {change.column}: relaxed in {target} by `python -m ops.infra` "
            "through the tables API (DDL cannot change a field inside a RECORD)"
        )
    return f"ALTER TABLE {target} ALTER COLUMN {_name_in(new, change)} DROP NOT NULL;"


def _siblings(table: Table, path: tuple[str, ...]) -> tuple[Column, ...]:
    """Return the columns beside the one at ``path`` (names match case-insensitively)."""
    columns = table.columns
    for name in path[:-1]:
        columns = next(c for c in columns if c.name.lower() == name.lower()).fields
    return columns


def _column_at(table: Table, path: tuple[str, ...]) -> Column:
    """Return the column or nested field of ``table`` at ``path``."""
    return next(c for c in _siblings(table, path) if c.name.lower() == path[-1].lower())


def _name_in(table: Table, change: SchemaChange) -> str:
    """Return the name the changed top-level column has in ``table`` (its DDL name)."""
    return _column_at(table, change.path).name


def compare_event_schemas(old: descriptor.Descriptor, new: descriptor.Descriptor) -> list[Finding]:
    """Return the findings for a new revision of a Pub/Sub schema (fields matched by number).

    Pub/Sub accepts a revision that only adds or removes (optional) fields; a
    field keeping its number must keep its name, type and label.
    """
    return _compare_messages(old, new, old.name)


def _field_type(field: descriptor.FieldDescriptor) -> str:
    if field.message_type is not None:
        return f"message {field.message_type.name}"
    if field.enum_type is not None:
        return f"enum {field.enum_type.name}"
    return str(field.type)


def _compare_messages(
    old: descriptor.Descriptor, new: descriptor.Descriptor, path: str
) -> list[Finding]:
    findings: list[Finding] = []
    new_by_number = {f.number: f for f in new.fields}
    for before in old.fields:
        subject = f"{path}.{before.name}"
        after = new_by_number.get(before.number)
        if after is None:
            findings.append(Finding(ALLOWED, subject, "optional field removed"))
            continue
        if after.name != before.name:
            findings.append(
                Finding(
                    REFUSED,
                    subject,
                    f"field {before.number} renamed to {after.name}; a Pub/Sub schema revision "
                    "may only add or remove fields (and JSON names would change)",
                )
            )
        elif _field_type(before) != _field_type(after) or before.is_repeated != after.is_repeated:
            findings.append(
                Finding(
                    REFUSED,
                    subject,
                    "type or label changed; a Pub/Sub schema revision may only add or remove "
                    "fields",
                )
            )
        elif before.enum_type is not None and after.enum_type is not None:
            removed = {v.name for v in before.enum_type.values} - {
                v.name for v in after.enum_type.values
            }
            for name in sorted(removed):
                findings.append(
                    Finding(
                        REFUSED,
                        f"{subject}.{name}",
                        "enum value removed; producers still sending it would be refused",
                    )
                )
        elif (
            before.message_type is not None
            and after.message_type is not None
            and path.count(".") < 20
        ):
            findings += _compare_messages(before.message_type, after.message_type, subject)
    old_numbers = {f.number for f in old.fields}
    for after in new.fields:
        if after.number not in old_numbers:
            findings.append(Finding(ALLOWED, f"{path}.{after.name}", "optional field added"))
    return findings
