"""Does a row fit its table? Checked in the pipeline, where the source message is still at hand.

Used before writes whose refusals come back without their message (the
Storage Write API through Beam's connector), so a row that cannot fit is
dead-lettered with its original payload instead of being refused later.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from ecom_warehouse.artifacts import WAREHOUSE_TABLES

INT64: Final = (-(2**63), 2**63 - 1)
NUMERIC_LIMIT: Final = Decimal(10) ** 29
_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def load_schema(table: str) -> list[dict[str, Any]]:
    """Return the BigQuery JSON schema of ``table`` (as in ``bq_schemas/<table>.json``).

    Read from the generated artifacts module, which ships inside the package:
    a Dataflow worker has no checkout.
    """
    fields: list[dict[str, Any]] = WAREHOUSE_TABLES[table]["api"]["schema"]["fields"]
    return fields


def _value_problem(kind: str, value: Any) -> str | None:
    """Return why ``value`` cannot be a BigQuery ``kind``, or None."""
    if kind == "STRING":
        return None if isinstance(value, str) else "not a string"
    if kind == "INTEGER":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok and INT64[0] <= value <= INT64[1] else "not a 64-bit integer"
    if kind == "BOOLEAN":
        return None if isinstance(value, bool) else "not a boolean"
    if kind == "FLOAT":
        return (
            None
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            else "not a number"
        )
    if kind == "NUMERIC":
        try:
            amount = Decimal(value) if isinstance(value, str) else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or abs(amount) >= NUMERIC_LIMIT:
            return "not a NUMERIC decimal string"
        exponent = amount.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) else 0
        return None if places <= 9 else "more than 9 decimal places"
    if kind == "DATE":
        return None if isinstance(value, str) and _DATE.match(value) else "not a YYYY-MM-DD date"
    if kind == "TIMESTAMP":
        stamp = isinstance(value, str) and _TIMESTAMP.match(value) is not None
        return None if stamp else "not an RFC 3339 UTC timestamp"
    if kind == "BYTES":
        return None if isinstance(value, str) else "not base64 text"
    return f"type {kind} is not checked"


def row_problem(schema: list[dict[str, Any]], row: dict[str, Any]) -> str | None:
    """Return the first reason ``row`` does not fit ``schema``, or None when it fits."""
    known = {field["name"] for field in schema}
    extra = sorted(set(row) - known)
    if extra:
        return f"columns {extra} are not in the table"
    for field in schema:
        name, mode, kind = field["name"], field["mode"], field["type"]
        value = row.get(name)
        if value is None:
            if mode == "REQUIRED":
                return f"{name} is REQUIRED"
            continue
        values = value if mode == "REPEATED" else [value]
        if mode == "REPEATED" and not isinstance(value, list):
            return f"{name} is REPEATED but not a list"
        for item in values:
            if kind == "RECORD":
                problem = (
                    row_problem(field["fields"], item) if isinstance(item, dict) else "not a record"
                )
            else:
                problem = _value_problem(kind, item)
            if problem:
                return f"{name}: {problem}"
    return None
