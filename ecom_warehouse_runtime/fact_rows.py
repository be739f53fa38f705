"""Fact rows and their values: the run-time half of the generated row builders.

``make proto`` renders ``ecom_warehouse.rows`` from the warehouse contracts'
column sources (see ``contracts/lineage.py``); the code it renders builds
:class:`FactRow` values and converts contract values with the functions here,
one per entry of the type mapping in ``docs/contracts.md``. Rows are dicts of
JSON-ready values keyed by column name, as BigQuery's ``insertAll`` takes
them: NUMERIC as an exact decimal string, DATE as ``YYYY-MM-DD``, TIMESTAMP as
RFC 3339 UTC with microseconds, BYTES as base64, enums as their warehouse
label, absent values as ``None``.

A value BigQuery cannot hold raises :class:`UnrepresentableValueError`; the
pipeline's model stage turns it into a dead letter (``pipeline.model``).
This module imports nothing of the project: the generated code depends on
it, never the other way round.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from typing import Any, Final, NamedTuple

Row = dict[str, Any]

NANOS: Final = 1_000_000_000
NUMERIC_LIMIT: Final = 10**29 * NANOS
"""BigQuery NUMERIC holds |x| < 10^29 with 9 fractional digits; in nanos."""
_EPOCH_DATE: Final = dt.date(1970, 1, 1)
_MIN_SECONDS: Final = -62135596800  # 0001-01-01T00:00:00Z
_MAX_SECONDS: Final = 253402300799  # 9999-12-31T23:59:59Z
_TWO_DIGITS: Final = tuple(f"{second:02d}" for second in range(60))
_THREE_DIGITS: Final = tuple(f"{number:03d}" for number in range(1000))


class UnrepresentableValueError(Exception):
    """A valid contract value BigQuery cannot hold (NUMERIC overflow, an impossible date, ...)."""


class FactRow(NamedTuple):
    """One row for one table, with the key that makes its insertion idempotent."""

    table: str
    key: str
    row: Row


def money_nanos(money: Any) -> int:
    """Return an ``ecom.types.v1.Money`` as an integer number of nanos (exact)."""
    return money.units * NANOS + money.nanos  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=65536)
def numeric(nanos: int) -> str:
    """Return an amount in nanos as a NUMERIC decimal string: ``12500000000`` is ``"12.5"``.

    Cached: prices and totals repeat. Raises UnrepresentableValueError beyond NUMERIC's
    range.
    """
    if abs(nanos) >= NUMERIC_LIMIT:
        raise UnrepresentableValueError(f"amount {nanos} nanos exceeds BigQuery NUMERIC")
    sign = "-" if nanos < 0 else ""
    whole, fraction = divmod(abs(nanos), NANOS)
    if not fraction:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:09d}".rstrip("0")


def money(value: Any) -> str:
    """Return an ``ecom.types.v1.Money`` as a NUMERIC decimal string."""
    return numeric(value.units * NANOS + value.nanos)


@functools.lru_cache(maxsize=4096)
def _minute(minutes: int) -> tuple[str, str]:
    """Return (``YYYY-MM-DDTHH:MM:``, ``YYYY-MM-DD``) of a minute since the epoch (cached)."""
    days, minute_of_day = divmod(minutes, 1440)
    hours, minute = divmod(minute_of_day, 60)
    day = (_EPOCH_DATE + dt.timedelta(days=days)).isoformat()
    return f"{day}T{hours:02d}:{minute:02d}:", day


def timestamp(seconds: int, nanos: int) -> tuple[str, str]:
    """Return (RFC 3339 UTC timestamp with microseconds, ``YYYY-MM-DD`` date) of a Timestamp.

    BigQuery keeps microseconds; the nanosecond remainder is truncated.
    Raises UnrepresentableValueError outside BigQuery's range (years 1 to 9999).
    """
    if not (_MIN_SECONDS <= seconds <= _MAX_SECONDS and 0 <= nanos <= 999_999_999):
        raise UnrepresentableValueError(
            f"timestamp {seconds}s {nanos}ns is outside BigQuery's range"
        )
    minutes, second = divmod(seconds, 60)
    prefix, day = _minute(minutes)
    milli, micro = divmod(nanos // 1000, 1000)
    return f"{prefix}{_TWO_DIGITS[second]}.{_THREE_DIGITS[milli]}{_THREE_DIGITS[micro]}Z", day


def date(value: Any) -> str:
    """Return an ``ecom.types.v1.Date`` as ``YYYY-MM-DD``.

    Raises UnrepresentableValueError for an impossible date.
    """
    try:
        return dt.date(value.year, value.month, value.day).isoformat()
    except ValueError as error:
        raise UnrepresentableValueError(
            f"date {value.year}-{value.month}-{value.day}: {error}"
        ) from None


def label(labels: dict[int, str], number: int, field: str) -> str:
    """Return the warehouse label of enum value ``number``.

    Raises UnrepresentableValueError for a value the contract does not define.
    """
    found = labels.get(number)
    if found is None:
        raise UnrepresentableValueError(
            f"{field}: enum value {number} is not defined in this contract"
        )
    return found


def base64_text(value: bytes) -> str:
    """Return bytes as base64 text, as BigQuery's JSON rows carry BYTES."""
    return base64.b64encode(value).decode("ascii")
