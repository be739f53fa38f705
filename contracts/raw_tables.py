"""Raw landing tables: every published message as Pub/Sub received it, one table per topic.

A BigQuery subscription with ``use_topic_schema`` and ``write_metadata``
writes each message's fields into same-named columns and adds Pub/Sub's
metadata columns. This module derives those tables from the event contracts
with Pub/Sub's own mapping from protobuf to BigQuery, which differs from the
warehouse mapping: enums land as their INTEGER numbers, ``Timestamp`` and
``Money`` as RECORDs of their wire fields, every field NULLABLE (proto3
fields may be absent), ``uint64`` as NUMERIC. The tables are the audit copy no
pipeline bug can lose, and ``ops.replay`` re-publishes from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from google.protobuf import descriptor

from contracts.bigquery_schema import MAX_NESTING_DEPTH, Column
from contracts.ddl import DATASET, column_definition, quote
from contracts.descriptors import ContractImage
from contracts.errors import ContractDefinitionError
from contracts.pubsub_schema import topic_id

_FD = descriptor.FieldDescriptor
_PUBSUB_TYPES: Final[dict[int, tuple[str, str]]] = {
    **dict.fromkeys(
        (_FD.TYPE_INT32, _FD.TYPE_SINT32, _FD.TYPE_SFIXED32, _FD.TYPE_UINT32, _FD.TYPE_FIXED32),
        ("INTEGER", "INT64"),
    ),
    **dict.fromkeys((_FD.TYPE_INT64, _FD.TYPE_SINT64, _FD.TYPE_SFIXED64), ("INTEGER", "INT64")),
    **dict.fromkeys((_FD.TYPE_UINT64, _FD.TYPE_FIXED64), ("NUMERIC", "NUMERIC")),
    **dict.fromkeys((_FD.TYPE_DOUBLE, _FD.TYPE_FLOAT), ("FLOAT", "FLOAT64")),
    _FD.TYPE_BOOL: ("BOOLEAN", "BOOL"),
    _FD.TYPE_STRING: ("STRING", "STRING"),
    _FD.TYPE_BYTES: ("BYTES", "BYTES"),
    _FD.TYPE_ENUM: ("INTEGER", "INT64"),
}
"""Pub/Sub's protobuf-to-BigQuery mapping for topic-schema writes (enums only as INTEGER)."""

_WELL_KNOWN_COMMENTS: Final = {
    "google.protobuf.Timestamp.seconds": "Seconds since the Unix epoch (UTC).",
    "google.protobuf.Timestamp.nanos": "Nanoseconds within the second.",
}

METADATA_COLUMNS: Final = (
    Column(
        "subscription_name",
        "STRING",
        "STRING",
        "NULLABLE",
        "The BigQuery subscription that wrote the row.",
    ),
    Column("message_id", "STRING", "STRING", "NULLABLE", "Pub/Sub message id."),
    Column(
        "publish_time",
        "TIMESTAMP",
        "TIMESTAMP",
        "NULLABLE",
        "When Pub/Sub accepted the message; the partitioning column.",
    ),
    Column(
        "attributes",
        "JSON",
        "JSON",
        "NULLABLE",
        "The message's attributes (and ordering key) as a JSON object.",
    ),
)
"""The columns ``write_metadata`` fills (``data`` is not written with ``use_topic_schema``)."""


@dataclass(frozen=True)
class RawTable:
    """The raw landing table of one event topic."""

    name: str
    event: str
    """Full name of the event contract."""
    source_file: str
    topic_id: str
    columns: tuple[Column, ...]

    @property
    def description(self) -> str:
        """The table's description."""
        return (
            f"Every message published to the {self.topic_id} topic ({self.event}) as Pub/Sub "
            "received it, written by a BigQuery subscription with the topic's schema: the "
            "audit copy, and a replay source (python -m ops.replay --source bq://...)."
        )

    def to_api_repr(self) -> dict[str, Any]:
        """Return the table as the BigQuery tables API takes it (without its reference)."""
        return {
            "description": self.description,
            "schema": {"fields": [column.to_api_repr() for column in self.columns]},
            "timePartitioning": {"type": "DAY", "field": "publish_time"},
        }


def raw_table_name(event: descriptor.Descriptor) -> str:
    """Return the raw landing table of ``event``: ``OrderEvent`` lands in ``raw_order_events``."""
    return "raw_" + topic_id(event).replace("-", "_")


def raw_tables(image: ContractImage, events: list[descriptor.Descriptor]) -> list[RawTable]:
    """Return the raw landing table of every event contract.

    Raises ContractDefinitionError when an event cannot land through a
    topic-schema BigQuery subscription (a field named like a metadata column,
    a map or a real ``oneof``).
    """
    reserved = {column.name for column in METADATA_COLUMNS} | {"data"}
    tables = []
    for event in events:
        clashes = sorted(field.name for field in event.fields if field.name in reserved)
        if clashes:
            raise ContractDefinitionError(
                f"{event.full_name}: fields {clashes} clash with Pub/Sub's metadata columns of "
                "the raw landing table"
            )
        columns = tuple(_column(image, field, depth=1) for field in event.fields)
        tables.append(
            RawTable(
                name=raw_table_name(event),
                event=event.full_name,
                source_file=event.file.name,
                topic_id=topic_id(event),
                columns=METADATA_COLUMNS + columns,
            )
        )
    return tables


def _column(image: ContractImage, field: descriptor.FieldDescriptor, depth: int) -> Column:
    where = field.full_name
    if depth > MAX_NESTING_DEPTH:
        raise ContractDefinitionError(f"{where}: nested too deep for a raw landing table")
    if field.containing_oneof is not None and field.full_name not in image.proto3_optional:
        raise ContractDefinitionError(
            f"{where}: oneof fields have no BigQuery mapping in a topic-schema subscription"
        )
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        raise ContractDefinitionError(f"{where}: map fields are not supported in raw landing")
    description = image.comment(field.full_name) or _WELL_KNOWN_COMMENTS.get(field.full_name, "")
    fields: tuple[Column, ...] = ()
    if field.message_type is not None:
        json_type, ddl_type = "RECORD", "STRUCT<...>"
        fields = tuple(_column(image, nested, depth + 1) for nested in field.message_type.fields)
    else:
        json_type, ddl_type = _PUBSUB_TYPES[field.type]
        if field.enum_type is not None:
            description = f"{description} Enum number ({field.enum_type.full_name})".strip()
    return Column(
        name=field.name,
        json_type=json_type,
        ddl_type=ddl_type,
        mode="REPEATED" if field.is_repeated else "NULLABLE",
        description=description,
        fields=fields,
        number=field.number,
    )


def render_raw_ddl(table: RawTable, *, dataset: str = DATASET) -> str:
    """Return the ``CREATE TABLE IF NOT EXISTS`` of a raw landing table."""
    columns = ",\n".join(f"  {column_definition(column)}" for column in table.columns)
    return (
        f"-- Generated by `make proto` from proto/{table.source_file} ({table.event}).\n"
        "-- DO NOT EDIT: change the contract and run `make proto`.\n"
        f"CREATE TABLE IF NOT EXISTS `{dataset}.{table.name}` (\n"
        f"{columns}\n"
        ")\n"
        "PARTITION BY DATE(publish_time)\n"
        f"OPTIONS (description = {quote(table.description)});\n"
    )
