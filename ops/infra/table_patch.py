"""A live table's ``tables.patch``, rendered from the schema changes BigQuery's rules allow.

:func:`ecom_warehouse_runtime.schema_changes.diff` compares the live schema
with the generated one. The tables API makes the in-place changes that are
not DDL's: new columns and RECORD fields, REQUIRED relaxed to NULLABLE,
defaults, descriptions and policy tags (:data:`PATCHED`). A widening is a
migration's (DDL, run before this step); whatever else differs cannot change
in place and is reported (:func:`conflict`), never applied. BigQuery adds no
column together with its default, so the defaults go in a second patch
(:func:`patches`), after the columns exist. :func:`patched_schema` is the
schema to send: the live one with the changes, every live column kept in
place and new ones appended.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from ecom_warehouse_runtime.schema_changes import (
    ColumnAdded,
    ColumnRemoved,
    DefaultChanged,
    DescriptionChanged,
    ModeChanged,
    ModeRelaxed,
    PolicyTagsChanged,
    RequiredColumnAdded,
    SchemaChange,
    TypeChanged,
    TypeWidened,
)

Field = dict[str, Any]

PATCHED: Final = (ColumnAdded, ModeRelaxed, DefaultChanged, DescriptionChanged, PolicyTagsChanged)
"""The changes ``tables.patch`` makes; every other one is a conflict."""


def patches(changes: list[SchemaChange]) -> list[list[SchemaChange]]:
    """Return the patches to send, in order: the changes but defaults, then the defaults."""
    patched = [change for change in changes if isinstance(change, PATCHED)]
    phases: list[list[SchemaChange]] = [
        [change for change in patched if not isinstance(change, DefaultChanged)],
        [change for change in patched if isinstance(change, DefaultChanged)],
    ]
    return [phase for phase in phases if phase]


def conflicts(changes: list[SchemaChange]) -> list[str]:
    """Return one line per change a patch cannot make."""
    return [conflict(change) for change in changes if not isinstance(change, PATCHED)]


def conflict(change: SchemaChange) -> str:
    """Return why ``change`` is not made to the live table, prefixed with its column."""
    match change:
        case RequiredColumnAdded():
            return f"{change.column}: a new REQUIRED column cannot be added in place"
        case ColumnRemoved():
            return f"{change.column}: in the live table but not generated (kept)"
        case TypeWidened() | TypeChanged():
            return (
                f"{change.column}: live type {change.before}, generated {change.after} "
                "(a widening is a migration; anything else cannot change in place)"
            )
        case ModeChanged():
            return f"{change.column}: live mode {change.before}, generated {change.after}"
    raise ValueError(f"{change.column}: {type(change).__name__} is made by a patch")


def describe(change: SchemaChange) -> str:
    """Return one line for a plan printout of a change a patch makes."""
    match change:
        case ColumnAdded():
            return f"add {change.field['mode']} {change.field['type']} {change.column}"
        case ModeRelaxed():
            return f"relax {change.column} to NULLABLE"
        case DefaultChanged():
            return f"set {change.column} DEFAULT {change.after or None}"
        case PolicyTagsChanged():
            return f"set policy tags of {change.column}"
    return f"set description of {change.column}"


def patched_schema(live: list[Field], changes: list[SchemaChange]) -> list[Field]:
    """Return ``live`` with ``changes`` made: the schema to send with ``tables.patch``."""
    schema = copy.deepcopy(live)
    for change in changes:
        siblings = schema
        for name in change.path[:-1]:
            siblings = _named(siblings, name).setdefault("fields", [])
        if isinstance(change, ColumnAdded):
            siblings.append(copy.deepcopy(dict(change.field)))
            continue
        field = _named(siblings, change.path[-1])
        match change:
            case ModeRelaxed():
                field["mode"] = "NULLABLE"
            case DefaultChanged() if change.after:
                field["defaultValueExpression"] = change.after
            case DefaultChanged():
                field.pop("defaultValueExpression", None)
            case DescriptionChanged():
                field["description"] = change.after
            case PolicyTagsChanged():
                field["policyTags"] = copy.deepcopy(dict(change.policy_tags))
    return schema


def _named(fields: list[Field], name: str) -> Field:
    return next(field for field in fields if field["name"].lower() == name.lower())


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
