"""Changes to the model: what a row is and what a column means, compared with a release.

The schema checks (:mod:`contracts.compatibility`) see a table's columns and
types; a model that works differently under the same schema passes them. So
:func:`compare_models` compares the resolved lineage (:mod:`contracts.lineage`)
of every table of a released revision with the working tree's, table by
table and column by column, and each difference is one :class:`ModelChange`
naming table (and column), old and new. Sources are compared as resolved:
event fields by number, derivations by name and arguments, so spacing in a
declaration or a field renamed under its number (which the Pub/Sub rules
refuse by themselves) changes nothing here.

Refused, because rows already written would be other facts than the rows
written from now on under the same name, and a replay or redelivery of an
old event would add rows the deduplicated view cannot collapse:

- ``source_event`` moved to another event;
- ``lines`` moved to another repeated field, or added or removed;
- ``only_when`` changed, added or removed (the table's grain);
- ``line_order`` changed in any way (the lines are numbered differently, so
  their line numbers and keys change);
- the row key: ``key_column`` or the key column's source;
- ``ingestion_time_column`` (the deduplicated view keeps another row of a key).

What to do instead: a new table (or a new line table) and a backfill plan.

Refused, because the column's meaning changes and rows written before and
after cannot be told apart in queries (the fact tables carry no revision):
a source re-pointed to another field, a derivation swapped for another, a
derivation's arguments changed, a field path becoming a derivation or the
other way round, and a column moving between the pipeline and a BigQuery
default. What to do instead: keep the column and add a new one, NULLABLE,
fed by the new source, with its migration.

Warned: ``nullif_empty`` added around or removed from the same field. Values
keep their meaning; "no value" is NULL in some rows and ``''`` in others,
which a query reconciles with ``NULLIF(column, '')``.

Not a model change: a new column (judged by the schema checks: allowed with
its migration when NULLABLE and fed by a source that holds); a source whose
field has become required; a changed default value expression (a schema
change, allowed for rows written from then on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from contracts.bigquery_schema import Column, Table, warehouse_tables
from contracts.compatibility import REFUSED, WARNING, Finding
from contracts.descriptors import ContractImage
from contracts.errors import ContractDefinitionError
from contracts.lineage import Lineage, Source, lineages
from contracts.model_record import with_recorded_model

_BACKFILL: Final = "add a new table and plan a backfill"
_UNTOLD: Final = (
    "rows written before hold {old} and rows from now on would hold {new}, and nothing in "
    "the table tells them apart; keep this column as it is and add a new NULLABLE column "
    "{instead} (with its migration)"
)


@dataclass(frozen=True)
class ModelChange:
    """One difference between the model of a released table and the working tree's."""

    verdict: str
    subject: str
    """``table`` or ``table.column``."""
    what: str
    """What changed, from what to what."""
    consequence: str
    """What it does to the rows, and what to do instead."""

    def finding(self) -> Finding:
        """Return the change as the gate reports it, on one line."""
        return Finding(self.verdict, self.subject, f"{self.what}: {self.consequence}")


@dataclass(frozen=True)
class _Meaning:
    """What a column holds, comparable between revisions."""

    kind: str
    """A derivation's name, ``path`` for a plain field path, ``default`` for BigQuery's."""
    fields: tuple[tuple[int, ...], ...]
    """Per argument (the path itself for ``path``), the field numbers walked from the event."""
    text: str


def _meaning(column: Column, source: Source | None) -> _Meaning | None:
    if column.default_value_expression:
        return _Meaning("default", (), f"the BigQuery default {column.default_value_expression}")
    if source is None:
        return None
    fields = tuple(tuple(field.number for field in path.fields) for path in source.paths)
    paths = ", ".join(path.text for path in source.paths)
    if not source.derivation:
        return _Meaning("path", fields, paths)
    return _Meaning(source.derivation, fields, f"{source.derivation}({paths})")


def _line_order(lineage: Lineage) -> tuple[tuple[tuple[int, ...], bool], ...]:
    return tuple((tuple(f.number for f in path.fields), down) for path, down in lineage.line_order)


def _line_order_text(lineage: Lineage) -> str:
    entries = (f"{'-' if down else ''}{path.text}" for path, down in lineage.line_order)
    return f"({', '.join(entries)})"


def _only_when(lineage: Lineage) -> tuple[tuple[int, int] | None, str]:
    if lineage.only_when is None:
        return None, "(every event)"
    field, value = lineage.only_when
    return (field.number, value.number), f"{field.name} = {value.name}"


def _lines(lineage: Lineage) -> tuple[int | None, str]:
    if lineage.lines is None:
        return None, "(none: one row per event)"
    return lineage.lines.number, lineage.lines.name


def _numbered_key(lineage: Lineage) -> bool:
    """Whether the table's row key is made from the line number."""
    return any(
        source.column.name == lineage.table.key_column
        and source.derivation in ("line_key", "line_number")
        for source in lineage.sources
    )


def compare_lineages(old: Lineage, new: Lineage) -> list[ModelChange]:
    """Return every difference between a released table's model and the working tree's."""
    name = new.table.name
    if old.event.full_name != new.event.full_name:
        return [
            ModelChange(
                REFUSED,
                name,
                f"source_event changed from {old.event.full_name} to {new.event.full_name}",
                f"rows written before come from {old.event.full_name} and rows from now on "
                f"would come from {new.event.full_name} under the same table name; add a new "
                f"table fed by {new.event.full_name} and plan a backfill",
            )
        ]
    changes = []
    (old_lines, old_lines_text), (new_lines, new_lines_text) = _lines(old), _lines(new)
    if old_lines != new_lines:
        changes.append(
            ModelChange(
                REFUSED,
                name,
                f"lines changed from {old_lines_text} to {new_lines_text}",
                f"the table's grain changes under the same name; {_BACKFILL}",
            )
        )
    (old_when, old_when_text), (new_when, new_when_text) = _only_when(old), _only_when(new)
    if old_when != new_when:
        changes.append(
            ModelChange(
                REFUSED,
                name,
                f"only_when changed from {old_when_text} to {new_when_text}",
                "the table's grain changes under the same name: rows written before come "
                "from other events than rows from now on; add a new table with the new grain "
                "and plan a backfill",
            )
        )
    if old_lines == new_lines and _line_order(old) != _line_order(new):
        key = new.table.key_column
        changes.append(
            ModelChange(
                REFUSED,
                f"{name}.{key}" if _numbered_key(old) and key == old.table.key_column else name,
                f"line_order changed from {_line_order_text(old)} to {_line_order_text(new)}",
                "the same event's lines would be numbered differently, so their keys change "
                "and a replay or redelivery of an event that landed before adds rows under new "
                "keys that the deduplicated view cannot collapse; add a new table (or a new "
                "line table) and plan a backfill",
            )
        )
    changes += _compare_keys(old.table, new.table)
    if old_lines == new_lines:
        changes += _compare_columns(old, new)
    return changes


def _compare_keys(old: Table, new: Table) -> list[ModelChange]:
    changes = []
    if old.key_column and old.key_column != new.key_column:
        changes.append(
            ModelChange(
                REFUSED,
                new.name,
                f"row key changed from {old.key_column} to {new.key_column}",
                "rows already written are identified by another column, so a replay or "
                "redelivery of their events adds rows the deduplicated view cannot collapse; "
                f"{_BACKFILL}",
            )
        )
    if old.ingestion_time_column and old.ingestion_time_column != new.ingestion_time_column:
        changes.append(
            ModelChange(
                REFUSED,
                new.name,
                f"ingestion_time_column changed from {old.ingestion_time_column} to "
                f"{new.ingestion_time_column}",
                "the deduplicated view would order a key's rows by another column (NULL in "
                "rows written before it was added), so it may keep another row of keys already "
                f"written; {_BACKFILL}",
            )
        )
    return changes


def _compare_columns(old: Lineage, new: Lineage) -> list[ModelChange]:
    old_sources = {source.column.name: source for source in old.sources}
    new_sources = {source.column.name: source for source in new.sources}
    columns = {column.name: column for column in new.table.columns}
    changes = []
    for column in old.table.columns:
        replacement = columns.get(column.name)
        if replacement is None:  # removed or renamed: the schema checks refuse it
            continue
        before = _meaning(column, old_sources.get(column.name))
        after = _meaning(replacement, new_sources.get(column.name))
        if (
            before is None
            or after is None
            or (before.kind, before.fields)
            == (
                after.kind,
                after.fields,
            )
        ):
            continue
        if before.kind == after.kind == "default":  # a default changed: a schema change
            continue
        subject = f"{new.table.name}.{column.name}"
        key = column.name == old.table.key_column == new.table.key_column
        changes.append(_column_change(subject, column.name, before, after, key=key))
    return changes


def _column_change(
    subject: str, column: str, before: _Meaning, after: _Meaning, *, key: bool
) -> ModelChange:
    old, new = before.text, after.text
    if key:
        return ModelChange(
            REFUSED,
            subject,
            f"row key source changed from {old} to {new}",
            "facts already written would get other keys, so a replay or redelivery of an "
            "event that landed before adds rows the deduplicated view cannot collapse; "
            + _BACKFILL,
        )
    if {before.kind, after.kind} == {"path", "nullif_empty"} and before.fields == after.fields:
        empty, null = ("NULL", "''") if before.kind == "nullif_empty" else ("''", "NULL")
        return ModelChange(
            WARNING,
            subject,
            f"source changed from {old} to {new}",
            f"where the field is empty, rows written before hold {empty} and rows from now on "
            f"{null}; queries that read NULLIF({column}, '') treat both alike",
        )
    if before.kind == after.kind == "path":
        what = f"source re-pointed from {old} to {new}"
    elif before.kind == after.kind:
        what = f"arguments changed from {old} to {new}"
    elif "path" in (before.kind, after.kind) or "default" in (before.kind, after.kind):
        what = f"source changed from {old} to {new}"
    else:
        what = f"derivation changed from {old} to {new}"
    instead = f"with {new}" if after.kind == "default" else f"fed by {new}"
    return ModelChange(REFUSED, subject, what, _UNTOLD.format(old=old, new=new, instead=instead))


def _resolved(image: ContractImage, released: bool) -> tuple[dict[str, Lineage], list[Table]]:
    tables = warehouse_tables(image)
    if released:
        tables = [with_recorded_model(t, image.recorded_model.get(t.name)) for t in tables]
    found, _ = lineages(image, tables)
    return {lineage.table.name: lineage for lineage in found}, tables


def compare_models(old: ContractImage, new: ContractImage) -> list[Finding]:
    """Return the findings about the model of every table of ``old`` (a release) in ``new``.

    Tables the release does not have are not compared (a new table is
    judged by the schema checks); nor are tables whose new model does not
    resolve (refused by :func:`contracts.gate.model_findings`). A released
    table whose model cannot be read (an image older than the model
    declarations with no record beside it) is a warning: its model is not judged.
    """
    try:
        after, _ = _resolved(new, released=False)
    except ContractDefinitionError:  # refused by the gate itself
        return []
    before, tables = _resolved(old, released=True)
    findings = []
    for table in tables:
        lineage = before.get(table.name)
        if lineage is None:
            findings.append(
                Finding(
                    WARNING,
                    table.name,
                    "the released revision's model cannot be read (its image declares no "
                    "source_event and no model is recorded beside it): changes to the model "
                    "are not judged against it",
                )
            )
        elif table.name in after:
            changes = compare_lineages(lineage, after[table.name])
            findings += [change.finding() for change in changes]
    return findings
