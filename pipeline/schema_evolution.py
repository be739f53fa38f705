"""Bring a live table's schema to the generated one, as far as BigQuery allows it in place.

Schemas are BigQuery JSON schemas (lists of fields as the tables API has
them). :func:`plan_changes` compares a live table with its generated schema
and returns the changes BigQuery makes in place (a new column or RECORD
field, REQUIRED relaxed to NULLABLE, a column default, a description, policy
tags) and the differences it cannot make (a removed column stays, a type
change, a tightened mode), which the compatibility gate should never let
through and which are reported, not applied. :func:`evolved_schema` is the
schema to send with ``tables.patch``: the live one with those changes, every
live column kept in place and new ones appended. BigQuery adds no column
together with its default, so a new column's default is a change of its own,
applied after the column exists. ``ops.infra`` applies the changes to
BigQuery; the local DuckDB warehouse applies the same changes as DDL.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Final

Field = dict[str, Any]

ADD: Final = "add"
RELAX: Final = "relax"
DEFAULT: Final = "default"
DESCRIPTION: Final = "description"
POLICY_TAGS: Final = "policy_tags"


@dataclass(frozen=True)
class SchemaChange:
    """One in-place change: what, where (``record.field`` path), and the generated field."""

    kind: str
    path: tuple[str, ...]
    field: Field

    @property
    def column(self) -> str:
        """The dotted path of the column or nested field."""
        return ".".join(self.path)

    def describe(self) -> str:
        """One line for a plan printout."""
        if self.kind == ADD:
            return f"add {self.field['mode']} {self.field['type']} {self.column}"
        if self.kind == RELAX:
            return f"relax {self.column} to NULLABLE"
        if self.kind == DEFAULT:
            return f"set {self.column} DEFAULT {self.field.get('defaultValueExpression')}"
        if self.kind == POLICY_TAGS:
            return f"set policy tags of {self.column}"
        return f"set description of {self.column}"


def _by_name(fields: list[Field]) -> dict[str, Field]:
    return {field["name"].lower(): field for field in fields}


def plan_changes(
    live: list[Field], target: list[Field], *, compare_types: bool = True
) -> tuple[list[SchemaChange], list[str]]:
    """Return the in-place changes from ``live`` to ``target``, and what cannot change in place.

    With ``compare_types`` off (a local warehouse, whose types are not
    BigQuery's and which keeps no descriptions) only names, nesting, modes and
    defaults are compared.
    """
    changes: list[SchemaChange] = []
    conflicts: list[str] = []
    _compare(live, target, (), changes, conflicts, compare_types)
    return changes, conflicts


def _compare(
    live: list[Field],
    target: list[Field],
    prefix: tuple[str, ...],
    changes: list[SchemaChange],
    conflicts: list[str],
    compare_types: bool,
) -> None:
    live_by_name = _by_name(live)
    for wanted in target:
        path = (*prefix, wanted["name"])
        where = ".".join(path)
        current = live_by_name.get(wanted["name"].lower())
        if current is None:
            if wanted.get("mode", "NULLABLE") == "REQUIRED":
                conflicts.append(f"{where}: a new REQUIRED column cannot be added in place")
                continue
            # BigQuery adds no column with a default: add it, then set the default.
            added = {k: v for k, v in wanted.items() if k != "defaultValueExpression"}
            changes.append(SchemaChange(ADD, path, added))
            if not prefix and wanted.get("defaultValueExpression"):
                changes.append(SchemaChange(DEFAULT, path, wanted))
            continue
        live_mode = current.get("mode", "NULLABLE")
        wanted_mode = wanted.get("mode", "NULLABLE")
        if compare_types and current.get("type") != wanted.get("type"):
            conflicts.append(
                f"{where}: live type {current.get('type')}, generated {wanted.get('type')} "
                "(a widening is a migration; anything else cannot change in place)"
            )
        if live_mode != wanted_mode:
            if (live_mode, wanted_mode) == ("REQUIRED", "NULLABLE"):
                changes.append(SchemaChange(RELAX, path, wanted))
            else:
                conflicts.append(f"{where}: live mode {live_mode}, generated {wanted_mode}")
        if not prefix and current.get("defaultValueExpression") != wanted.get(
            "defaultValueExpression"
        ):
            changes.append(SchemaChange(DEFAULT, path, wanted))
        if compare_types and current.get("description", "") != wanted.get("description", ""):
            changes.append(SchemaChange(DESCRIPTION, path, wanted))
        if "policyTags" in wanted and current.get("policyTags") != wanted["policyTags"]:
            changes.append(SchemaChange(POLICY_TAGS, path, wanted))
        if wanted.get("fields") or current.get("fields"):
            _compare(
                current.get("fields", []),
                wanted.get("fields", []),
                path,
                changes,
                conflicts,
                compare_types,
            )
    target_names = {field["name"].lower() for field in target}
    for current in live:
        if current["name"].lower() not in target_names:
            conflicts.append(
                f"{'.'.join((*prefix, current['name']))}: in the live table but not generated "
                "(kept)"
            )


def evolved_schema(live: list[Field], changes: list[SchemaChange]) -> list[Field]:
    """Return ``live`` with ``changes`` applied: the schema to send with ``tables.patch``."""
    schema = copy.deepcopy(live)
    for change in changes:
        siblings = schema
        for name in change.path[:-1]:
            parent = _by_name(siblings)[name.lower()]
            siblings = parent.setdefault("fields", [])
        if change.kind == ADD:
            siblings.append(copy.deepcopy(change.field))
            continue
        field = _by_name(siblings)[change.path[-1].lower()]
        if change.kind == RELAX:
            field["mode"] = "NULLABLE"
        elif change.kind == DEFAULT:
            if change.field.get("defaultValueExpression"):
                field["defaultValueExpression"] = change.field["defaultValueExpression"]
            else:
                field.pop("defaultValueExpression", None)
        elif change.kind == DESCRIPTION:
            field["description"] = change.field.get("description", "")
        elif change.kind == POLICY_TAGS:
            field["policyTags"] = copy.deepcopy(change.field["policyTags"])
    return schema


def with_policy_tag(fields: list[Field], placeholder: str, tag: str) -> list[Field]:
    """Return ``fields`` with the generated policy-tag placeholder replaced by ``tag``.

    With no ``tag`` the placeholders are removed, so a deployment without a
    taxonomy neither sets nor clears the live tables' policy tags.
    """
    result = []
    for field in fields:
        field = dict(field)
        names = field.get("policyTags", {}).get("names", [])
        if placeholder in names:
            if tag:
                field["policyTags"] = {"names": [tag if n == placeholder else n for n in names]}
            else:
                field.pop("policyTags")
        if "fields" in field:
            field["fields"] = with_policy_tag(field["fields"], placeholder, tag)
        result.append(field)
    return result
