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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from google.protobuf import descriptor

from contracts.bigquery_schema import Column, Table
from contracts.ddl import column_type, quote

ALLOWED: Final = "allowed"
WARNING: Final = "warning"
"""Allowed, but worth a reader's attention (printed by ``make proto``, never refusing)."""
REFUSED: Final = "refused"

WIDENINGS: Final = frozenset(
    {
        ("INTEGER", "NUMERIC"),
        ("INTEGER", "BIGNUMERIC"),
        ("INTEGER", "FLOAT"),
        ("NUMERIC", "BIGNUMERIC"),
        ("NUMERIC", "FLOAT"),
    }
)
"""Type changes BigQuery applies in place (``ALTER COLUMN ... SET DATA TYPE``)."""
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
    findings += _compare_columns(old.columns, new.columns, new.name, target, prefix="")
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


def _compare_columns(
    old: tuple[Column, ...], new: tuple[Column, ...], table: str, target: str, prefix: str
) -> list[Finding]:
    findings: list[Finding] = []
    new_by_name = {c.name.lower(): c for c in new}
    old_names = {c.name.lower() for c in old}
    for before in old:
        subject = f"{table}.{prefix}{before.name}"
        after = new_by_name.get(before.name.lower())
        if after is None:
            renamed = next(
                (c for c in new if c.number == before.number and c.name.lower() not in old_names),
                None,
            )
            rule = (
                f"column renamed to {renamed.name}; BigQuery sees a removed and a new column"
                if renamed is not None
                else "column removed; the live table keeps it and BigQuery cannot drop it "
                "for the pipeline"
            )
            findings.append(Finding(REFUSED, subject, rule))
            continue
        findings += _compare_column(before, after, subject, table, target, prefix)
    for after in new:
        if after.name.lower() in old_names:
            continue
        subject = f"{table}.{prefix}{after.name}"
        if after.mode == "REQUIRED":
            findings.append(
                Finding(
                    REFUSED,
                    subject,
                    "new REQUIRED column; rows written without it (older revisions) would be "
                    "refused: add it NULLABLE",
                )
            )
            continue
        if prefix:
            findings.append(
                Finding(
                    ALLOWED,
                    subject,
                    f"new {after.mode} field in a RECORD",
                    f"-- {prefix}{after.name} {column_type(after)}: added to {target} by "
                    "`python -m ops.infra` through the tables API (DDL cannot add a field inside "
                    "a RECORD); the local warehouse adds it too",
                )
            )
            continue
        migration = (
            f"ALTER TABLE {target} ADD COLUMN IF NOT EXISTS {after.name} {column_type(after)} "
            f"OPTIONS (description = {quote(after.description)});"
        )
        if after.default_value_expression:
            # BigQuery adds no column with a default: add it, then set the default.
            migration += (
                f"\nALTER TABLE {target} ALTER COLUMN {after.name} SET DEFAULT "
                f"{after.default_value_expression};"
            )
        findings.append(Finding(ALLOWED, subject, f"new {after.mode} column", migration))
    return findings


def _compare_column(
    before: Column, after: Column, subject: str, table: str, target: str, prefix: str
) -> list[Finding]:
    findings: list[Finding] = []
    nested = bool(prefix)
    if before.json_type != after.json_type:
        if (before.json_type, after.json_type) in WIDENINGS and not nested:
            findings.append(
                Finding(
                    ALLOWED,
                    subject,
                    f"type widened from {before.json_type} to {after.json_type}",
                    f"ALTER TABLE {target} ALTER COLUMN {after.name} SET DATA TYPE "
                    f"{_DDL_TYPES[after.json_type]};",
                )
            )
        else:
            findings.append(
                Finding(
                    REFUSED,
                    subject,
                    f"type changed from {before.json_type} to {after.json_type}; "
                    "BigQuery cannot convert the column in place",
                )
            )
            return findings
    if before.mode != after.mode:
        if (before.mode, after.mode) == ("REQUIRED", "NULLABLE") and not nested:
            findings.append(
                Finding(
                    ALLOWED,
                    subject,
                    "mode relaxed from REQUIRED to NULLABLE",
                    f"ALTER TABLE {target} ALTER COLUMN {after.name} DROP NOT NULL;",
                )
            )
        elif (before.mode, after.mode) == ("REQUIRED", "NULLABLE"):
            findings.append(
                Finding(
                    ALLOWED,
                    subject,
                    "mode relaxed from REQUIRED to NULLABLE",
                    f"-- {prefix}{after.name}: relaxed in {target} by `python -m ops.infra` "
                    "through the tables API (DDL cannot change a field inside a RECORD)",
                )
            )
        else:
            findings.append(
                Finding(
                    REFUSED,
                    subject,
                    f"mode changed from {before.mode} to {after.mode}; BigQuery only relaxes "
                    "REQUIRED to NULLABLE",
                )
            )
    if before.default_value_expression != after.default_value_expression and not nested:
        expression = after.default_value_expression
        findings.append(
            Finding(
                ALLOWED,
                subject,
                f"default changed from {before.default_value_expression or 'none'} to "
                f"{expression or 'none'} (rows written from now on)",
                f"ALTER TABLE {target} ALTER COLUMN {after.name} "
                + (f"SET DEFAULT {expression};" if expression else "DROP DEFAULT;"),
            )
        )
    if before.description != after.description:
        migration = (
            f"ALTER TABLE {target} ALTER COLUMN {after.name} SET OPTIONS "
            f"(description = {quote(after.description)});"
            if not nested
            else ""
        )
        findings.append(Finding(ALLOWED, subject, "description changed", migration))
    if before.fields or after.fields:
        findings += _compare_columns(
            before.fields, after.fields, table, target, prefix=f"{prefix}{before.name}."
        )
    return findings


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
