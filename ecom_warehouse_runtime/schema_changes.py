"""BigQuery's rules for changing a table's schema in place: one diff, one type per change.

A schema is a list of fields as BigQuery's tables API has them (``name``,
``type``, ``mode``, ``description``, ``defaultValueExpression``,
``policyTags``, nested ``fields``): what ``make proto`` generates, what a
live table returns, what the DuckDB warehouse reports of itself. :func:`diff`
compares a schema before and after and returns one typed change per
difference; every consumer renders its own output from the same changes:

- the compatibility gate (``contracts.compatibility``): a verdict and the
  migration DDL of each change between two releases of the contracts;
- ``ops.infra``: the ``tables.patch`` of a live BigQuery table;
- the DuckDB warehouse (``pipeline.warehouse``): its ``ALTER TABLE`` statements.

The rules are written here and nowhere else:

- BigQuery only relaxes a mode, REQUIRED to NULLABLE (:class:`ModeRelaxed`);
  any other mode change is a :class:`ModeChanged`.
- No new REQUIRED column (:class:`RequiredColumnAdded`): rows written
  without it, by older revisions, would be refused.
- BigQuery adds no column together with its default: a new column comes as
  :class:`ColumnAdded` without it, then a :class:`DefaultChanged` sets it.
  Defaults belong to top-level columns only.
- A top-level column widens in place by DDL (:data:`WIDENINGS`,
  :class:`TypeWidened`); any other type change, and any inside a RECORD, is
  a :class:`TypeChanged`, after which nothing else of that column is compared.
- A column that is gone stays in the live table (:class:`ColumnRemoved`).

Changes come in the order of the columns before, each with its own changes
(type, mode, default, description, policy tags, then its nested fields),
followed by the columns added, in their order. Names match
case-insensitively, as BigQuery's do; a matched column's path uses its
earlier name. Types are compared only where both schemas state one (the
DuckDB warehouse's does not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

Field = Mapping[str, Any]
"""One field of a schema, as BigQuery's tables API has it."""

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


@dataclass(frozen=True)
class SchemaChange:
    """One difference between two schemas, at ``path`` (the column, then nested field names)."""

    path: tuple[str, ...]
    in_place: ClassVar[bool]
    """BigQuery makes this change to a live table (by DDL or through the tables API)."""

    @property
    def column(self) -> str:
        """The dotted path of the column or nested field."""
        return ".".join(self.path)

    @property
    def nested(self) -> bool:
        """The change is to a field inside a RECORD, not to a top-level column."""
        return len(self.path) > 1


@dataclass(frozen=True)
class ColumnAdded(SchemaChange):
    """A new NULLABLE or REPEATED column or RECORD field; ``field`` is it without its default."""

    field: Field
    in_place = True


@dataclass(frozen=True)
class RequiredColumnAdded(SchemaChange):
    """A new REQUIRED column or RECORD field: rows written without it would be refused."""

    field: Field
    in_place = False


@dataclass(frozen=True)
class ColumnRemoved(SchemaChange):
    """A column or RECORD field that is gone; ``field`` is it as it was. The live table keeps it."""

    field: Field
    in_place = False


@dataclass(frozen=True)
class TypeWidened(SchemaChange):
    """A top-level column's type widened as BigQuery does in place (:data:`WIDENINGS`)."""

    before: str
    after: str
    in_place = True


@dataclass(frozen=True)
class TypeChanged(SchemaChange):
    """Any other type change: BigQuery cannot convert the column in place."""

    before: str
    after: str
    in_place = False


@dataclass(frozen=True)
class ModeRelaxed(SchemaChange):
    """REQUIRED relaxed to NULLABLE."""

    in_place = True


@dataclass(frozen=True)
class ModeChanged(SchemaChange):
    """Any other mode change: BigQuery only relaxes REQUIRED to NULLABLE."""

    before: str
    after: str
    in_place = False


@dataclass(frozen=True)
class DefaultChanged(SchemaChange):
    """A top-level column's default set, changed or dropped (``""``: none)."""

    before: str
    after: str
    in_place = True


@dataclass(frozen=True)
class DescriptionChanged(SchemaChange):
    """A column's or field's description changed."""

    before: str
    after: str
    in_place = True


@dataclass(frozen=True)
class PolicyTagsChanged(SchemaChange):
    """The policy tags the later schema states differ (a schema stating none changes none)."""

    policy_tags: Field
    in_place = True


def diff(before: Sequence[Field], after: Sequence[Field]) -> list[SchemaChange]:
    """Return the changes that turn schema ``before`` into schema ``after``, in order."""
    return _fields_diff(before, after, ())


def _mode(field: Field) -> str:
    return str(field.get("mode") or "NULLABLE")


def _default(field: Field) -> str:
    return str(field.get("defaultValueExpression") or "")


def _fields_diff(
    before: Sequence[Field], after: Sequence[Field], prefix: tuple[str, ...]
) -> list[SchemaChange]:
    after_by_name = {field["name"].lower(): field for field in after}
    before_names = {field["name"].lower() for field in before}
    changes: list[SchemaChange] = []
    for old in before:
        path = (*prefix, old["name"])
        new = after_by_name.get(old["name"].lower())
        if new is None:
            changes.append(ColumnRemoved(path, old))
        else:
            changes += _column_diff(old, new, path)
    for new in after:
        if new["name"].lower() not in before_names:
            changes += _added((*prefix, new["name"]), new)
    return changes


def _added(path: tuple[str, ...], field: Field) -> list[SchemaChange]:
    """Return the changes of a new column: refused if REQUIRED; else added, then its default."""
    if _mode(field) == "REQUIRED":
        return [RequiredColumnAdded(path, field)]
    added = {key: value for key, value in field.items() if key != "defaultValueExpression"}
    changes: list[SchemaChange] = [ColumnAdded(path, added)]
    if len(path) == 1 and _default(field):
        changes.append(DefaultChanged(path, "", _default(field)))
    return changes


def _column_diff(old: Field, new: Field, path: tuple[str, ...]) -> list[SchemaChange]:
    """Return the changes of a column kept under its name: its type first, then the rest."""
    retyped = _type_change(old, new, path)
    if isinstance(retyped, TypeChanged):
        return [retyped]  # the column cannot be converted: nothing else of it applies
    changes: list[SchemaChange] = [retyped] if retyped is not None else []
    changes += _mode_change(old, new, path)
    changes += _default_change(old, new, path)
    changes += _description_change(old, new, path)
    changes += _policy_tags_change(old, new, path)
    if old.get("fields") or new.get("fields"):
        changes += _fields_diff(old.get("fields", []), new.get("fields", []), path)
    return changes


def _type_change(old: Field, new: Field, path: tuple[str, ...]) -> SchemaChange | None:
    before, after = old.get("type"), new.get("type")
    if before is None or after is None or before == after:
        return None
    if (before, after) in WIDENINGS and len(path) == 1:
        return TypeWidened(path, before, after)
    return TypeChanged(path, before, after)


def _mode_change(old: Field, new: Field, path: tuple[str, ...]) -> list[SchemaChange]:
    before, after = _mode(old), _mode(new)
    if before == after:
        return []
    if (before, after) == ("REQUIRED", "NULLABLE"):
        return [ModeRelaxed(path)]
    return [ModeChanged(path, before, after)]


def _default_change(old: Field, new: Field, path: tuple[str, ...]) -> list[SchemaChange]:
    if len(path) > 1 or _default(old) == _default(new):
        return []
    return [DefaultChanged(path, _default(old), _default(new))]


def _description_change(old: Field, new: Field, path: tuple[str, ...]) -> list[SchemaChange]:
    before, after = old.get("description") or "", new.get("description") or ""
    return [DescriptionChanged(path, before, after)] if before != after else []


def _policy_tags_change(old: Field, new: Field, path: tuple[str, ...]) -> list[SchemaChange]:
    if "policyTags" not in new or old.get("policyTags") == new["policyTags"]:
        return []
    return [PolicyTagsChanged(path, new["policyTags"])]
