"""Read the raw landing tables back into Pub/Sub messages, for ``ops.replay --source bq://...``.

A raw landing table (``sql/raw/``) holds every message published to a topic,
written by a BigQuery subscription with the topic's schema: the event's
fields in columns (enums as numbers, ``Timestamp`` and ``Money`` as RECORDs
of their wire fields) and Pub/Sub's metadata (``message_id``,
``publish_time``, ``attributes``). A row maps back to the event field for
field through the Pub/Sub schema's own class, which has the columns' shape;
the event is then encoded as the topic requires and published with the
original attributes (without Pub/Sub's own ``googclient_*`` ones).

The ordering key has no column of its own. With ``write_metadata`` Pub/Sub
writes ``subscription_name``, ``message_id`` and ``publish_time`` to their
columns and "all other message properties (other than data)" into the JSON
object of the ``attributes`` column: its documentation of the column says it
"also contains additional fields that are part of the Pub/Sub message
including the ordering key, if present" (``BigQueryConfig.write_metadata``
names that property ``ordering_key``). So ``ordering_key`` is taken out of
the landed attributes and becomes the message's ordering key again, never an
attribute of the re-published message. A producer attribute of that very
name cannot be told apart from it; the project's publishers set none.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from google.protobuf import json_format
from google.protobuf.message import Message

from ecom_warehouse.artifacts import RAW_TABLES
from pipeline.catalog import BY_NAME, Contract

METADATA: Final = frozenset({"subscription_name", "message_id", "publish_time", "attributes"})
ORDERING_KEY: Final = "ordering_key"
"""The entry of the landed ``attributes`` JSON that holds the message's ordering key."""
PAGE_ROWS: Final = 1000


class RawRowError(ValueError):
    """A raw landing row does not map back to its event contract."""


@dataclass(frozen=True)
class RawMessage:
    """One message read back from a raw landing table."""

    event: Message
    attributes: dict[str, str]
    message_id: str
    publish_time: dt.datetime | None
    ordering_key: str = ""
    """The message's ordering key as published; empty when it had none."""


def contract_of_table(table: str) -> Contract:
    """Return the contract whose topic lands in ``table`` (``project.dataset.raw_...``)."""
    name = table.rsplit(".", 1)[-1]
    raw = RAW_TABLES.get(name)
    if raw is None:
        known = ", ".join(sorted(RAW_TABLES))
        raise RawRowError(f"{name!r} is not a raw landing table; known: {known}")
    return BY_NAME[raw["event"]]


def _jsonable(value: Any) -> Any:
    """Return a BigQuery value as protobuf's JSON parser takes it (absent fields left out)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):  # NUMERIC: uint64 and fixed64 fields
        return str(value)
    return value


def row_to_message(row: dict[str, Any], contract: Contract) -> RawMessage:
    """Return the event and metadata of one raw landing row.

    Raises RawRowError when the row's columns do not parse as the contract.
    """
    fields = {k: v for k, v in row.items() if k not in METADATA and v is not None}
    shaped = contract.pubsub_message()
    try:
        json_format.ParseDict(_jsonable(fields), shaped)
    except json_format.ParseError as error:
        raise RawRowError(f"message {row.get('message_id')}: {error}") from None
    event = contract.message.FromString(shaped.SerializeToString())
    attributes = row.get("attributes") or {}
    if isinstance(attributes, str):
        attributes = json.loads(attributes)
    kept = {
        str(k): str(v)
        for k, v in attributes.items()
        if not str(k).startswith("googclient_") and k != ORDERING_KEY
    }
    return RawMessage(
        event,
        kept,
        str(row.get("message_id") or ""),
        row.get("publish_time"),
        str(attributes.get(ORDERING_KEY) or ""),
    )


def read_raw_landing(
    client: Any, table: str, since: dt.datetime | None, until: dt.datetime | None
) -> Iterator[dict[str, Any]]:
    """Yield the rows of ``table`` published in ``[since, until)``, page by page, oldest first."""
    from google.cloud import bigquery

    conditions, parameters = [], []
    if since is not None:
        conditions.append("publish_time >= @since")
        parameters.append(bigquery.ScalarQueryParameter("since", "TIMESTAMP", since))
    if until is not None:
        conditions.append("publish_time < @until")
        parameters.append(bigquery.ScalarQueryParameter("until", "TIMESTAMP", until))
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    sql = f"SELECT * FROM `{table}` {where} ORDER BY publish_time, message_id"
    job = client.query(sql, job_config=bigquery.QueryJobConfig(query_parameters=parameters))
    for row in job.result(page_size=PAGE_ROWS):
        yield dict(row.items())
