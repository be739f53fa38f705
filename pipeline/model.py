"""Stage 5, model: events in, fact rows out, by the row builders generated from the contracts.

Every column of a warehouse contract declares its source (an event field path
or a derivation; see ``docs/contracts.md``), and ``make proto`` renders one
builder per event contract into ``ecom_warehouse.rows``, and beside it one that
also checks the contract's rules as it reads the event (:func:`model_if_valid`).
Rows are dicts of
JSON-ready values keyed by column name (see :mod:`ecom_warehouse_runtime.fact_rows`,
the builders' run time); the ``ingestion_timestamp`` column is left to
BigQuery's default. A value BigQuery cannot hold is a modeling error, whose
cause is the run time's ``UnrepresentableValueError``.

Grain (see the README): ``fact_order_header`` gets one row per order event;
``fact_order_item`` and ``fact_order`` get one row per line of an order's
*placed* event only (the contracts' ``only_when``), so later status events
never count a line twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from google.protobuf.message import Message

from ecom_warehouse.rows import BUILDERS, CHECKED_BUILDERS, KEY_COLUMNS, TABLES
from ecom_warehouse_runtime.fact_rows import (
    FactRow,
    Row,
    UnrepresentableValueError,
    money_nanos,
    numeric,
    timestamp,
)
from pipeline.errors import ModelingError

__all__ = [
    "KEY_COLUMNS",
    "TABLES",
    "FactRow",
    "Row",
    "model",
    "model_if_valid",
    "money_nanos",
    "numeric",
    "timestamp",
]


def model(event: Message) -> list[FactRow]:
    """Return the fact rows of a validated event. Raises ModelingError."""
    rows: list[FactRow] = _build(BUILDERS, event, event.DESCRIPTOR.full_name)
    return rows


def model_if_valid(event: Message, contract: str = "") -> list[FactRow] | None:
    """Return the fact rows of ``event`` if it breaks no rule of its contract, else None.

    Validate and model in one reading of the event: the checking builder
    ``make proto`` renders from the same rules as the validate stage's code
    (``ecom_warehouse.rows.CHECKED_BUILDERS``) returns None exactly where that
    code finds the event invalid or leaves it to protovalidate; the validate
    stage then says which rules it breaks. ``contract``: the event's full name,
    when the caller knows it (the descriptor is not read then). Raises ModelingError.
    """
    rows: list[FactRow] | None = _build(
        CHECKED_BUILDERS, event, contract or event.DESCRIPTOR.full_name
    )
    return rows


def _build(builders: Mapping[str, Callable[[Any], Any]], event: Message, contract: str) -> Any:
    """Run ``contract``'s builder of ``builders`` on ``event``; its errors as ModelingError."""
    builder = builders.get(contract)
    if builder is None:
        raise ModelingError(f"no warehouse table is fed by {event.DESCRIPTOR.full_name}")
    try:
        return builder(event)
    except UnrepresentableValueError as error:
        raise ModelingError(str(error)) from error
