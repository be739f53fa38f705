"""Warehouse contracts to BigQuery tables: the type mapping and the JSON schema.

A warehouse contract is a message in ``proto/`` that carries the
``(ecom.warehouse.v1.table)`` option. Each of its fields becomes a column; the
field's ``(ecom.warehouse.v1.column)`` option sets the mode, PII marking and
default value, and its leading comment becomes the description.
:data:`TYPE_MAPPING` is the one place the proto-to-BigQuery mapping is written
down; ``docs/contracts.md`` is generated from it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf import descriptor

from contracts.descriptors import ContractImage
from contracts.errors import ContractDefinitionError

TABLE_OPTION: Final = "ecom.warehouse.v1.table"
COLUMN_OPTION: Final = "ecom.warehouse.v1.column"

PII_POLICY_TAG: Final = (
    "projects/{project}/locations/{location}/taxonomies/{taxonomy}/policyTags/{pii_policy_tag}"
)
"""Policy tag attached to PII columns; the infrastructure command fills the placeholders."""

MAX_NESTING_DEPTH: Final = 15
MAX_COLUMNS: Final = 10_000
MAX_COLUMN_DESCRIPTION: Final = 1024
MAX_CLUSTERING_COLUMNS: Final = 4
_COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,299}$")
RESERVED_COLUMN_PREFIXES: Final = (
    "_TABLE_",
    "_FILE_",
    "_PARTITION",
    "_ROW_TIMESTAMP",
    "__ROOT__",
    "_COLON_",
    "_CHANGE_",
)
"""Column-name prefixes BigQuery reserves (compared case-insensitively)."""

CLUSTERABLE_TYPES: Final = frozenset(
    {"STRING", "INTEGER", "NUMERIC", "BIGNUMERIC", "DATE", "DATETIME", "TIMESTAMP", "BOOLEAN"}
)


@dataclass(frozen=True)
class TypeMapping:
    """How one kind of proto field lands in BigQuery."""

    proto: str
    """The proto type, as written in a ``.proto`` file."""
    json_type: str
    """The type in a BigQuery JSON schema (the names the BigQuery API returns)."""
    ddl_type: str
    """The GoogleSQL type in DDL."""
    note: str
    """Why, and how values are written."""


_FD = descriptor.FieldDescriptor
_INT = ("INTEGER", "INT64")
SCALAR_TYPES: Final[dict[int, TypeMapping]] = {
    _FD.TYPE_DOUBLE: TypeMapping("double", "FLOAT", "FLOAT64", "IEEE 754 double"),
    _FD.TYPE_FLOAT: TypeMapping("float", "FLOAT", "FLOAT64", "widened to double"),
    _FD.TYPE_INT32: TypeMapping("int32", *_INT, "widened to 64 bits"),
    _FD.TYPE_SINT32: TypeMapping("sint32", *_INT, "widened to 64 bits"),
    _FD.TYPE_SFIXED32: TypeMapping("sfixed32", *_INT, "widened to 64 bits"),
    _FD.TYPE_UINT32: TypeMapping("uint32", *_INT, "fits in a signed 64-bit integer"),
    _FD.TYPE_FIXED32: TypeMapping("fixed32", *_INT, "fits in a signed 64-bit integer"),
    _FD.TYPE_INT64: TypeMapping("int64", *_INT, "same range"),
    _FD.TYPE_SINT64: TypeMapping("sint64", *_INT, "same range"),
    _FD.TYPE_SFIXED64: TypeMapping("sfixed64", *_INT, "same range"),
    _FD.TYPE_UINT64: TypeMapping(
        "uint64", "NUMERIC", "NUMERIC", "exceeds INT64 above 2^63-1; NUMERIC holds it exactly"
    ),
    _FD.TYPE_FIXED64: TypeMapping(
        "fixed64", "NUMERIC", "NUMERIC", "exceeds INT64 above 2^63-1; NUMERIC holds it exactly"
    ),
    _FD.TYPE_BOOL: TypeMapping("bool", "BOOLEAN", "BOOL", ""),
    _FD.TYPE_STRING: TypeMapping("string", "STRING", "STRING", "UTF-8"),
    _FD.TYPE_BYTES: TypeMapping("bytes", "BYTES", "BYTES", "base64 in JSON rows"),
}

MESSAGE_TYPES: Final[dict[str, TypeMapping]] = {
    "google.protobuf.Timestamp": TypeMapping(
        "google.protobuf.Timestamp",
        "TIMESTAMP",
        "TIMESTAMP",
        "microsecond precision in BigQuery; written as RFC 3339 UTC",
    ),
    "ecom.types.v1.Date": TypeMapping(
        "ecom.types.v1.Date", "DATE", "DATE", "calendar date; written as YYYY-MM-DD"
    ),
    "ecom.types.v1.Money": TypeMapping(
        "ecom.types.v1.Money",
        "NUMERIC",
        "NUMERIC",
        "units + nanos/10^9, exact (NUMERIC has scale 9); written as a decimal string",
    ),
}

ENUM_TYPE: Final = TypeMapping(
    "enum",
    "STRING",
    "STRING",
    "value name without the enum's prefix, lower case: ORDER_STATUS_DELIVERED is 'delivered'",
)
MESSAGE_TYPE: Final = TypeMapping(
    "any other message", "RECORD", "STRUCT<...>", "nested columns, one per field"
)
REPEATED_TYPE: Final = TypeMapping(
    "repeated T", "mode REPEATED", "ARRAY<T>", "the element type maps as above"
)
TYPE_MAPPING: Final[tuple[TypeMapping, ...]] = (
    *SCALAR_TYPES.values(),
    ENUM_TYPE,
    *MESSAGE_TYPES.values(),
    MESSAGE_TYPE,
    REPEATED_TYPE,
)
"""Every mapping, in the order the reference table shows them."""

MODE_RULES: Final = (
    ("`(ecom.warehouse.v1.column).required = true`", "REQUIRED", "NOT NULL"),
    ("`optional` field, message field or plain scalar without `required`", "NULLABLE", ""),
    ("`repeated` field", "REPEATED", "ARRAY<...>"),
)


@dataclass(frozen=True)
class Column:
    """One BigQuery column declared by a warehouse contract field."""

    name: str
    json_type: str
    ddl_type: str
    mode: str
    description: str
    pii: bool = False
    default_value_expression: str = ""
    fields: tuple[Column, ...] = ()
    number: int = 0
    """Field number in the warehouse contract (not part of BigQuery's schema)."""
    source: str = ""
    """Where the value comes from, as declared (see :mod:`contracts.lineage`); not in BigQuery."""

    def to_api_repr(self) -> dict[str, Any]:
        """Return the column as the BigQuery API (and ``SchemaField.from_api_repr``) has it."""
        api: dict[str, Any] = {
            "name": self.name,
            "type": self.json_type,
            "mode": self.mode,
            "description": self.description,
        }
        if self.fields:
            api["fields"] = [field.to_api_repr() for field in self.fields]
        if self.default_value_expression:
            api["defaultValueExpression"] = self.default_value_expression
        if self.pii:
            api["policyTags"] = {"names": [PII_POLICY_TAG]}
        return api


@dataclass(frozen=True)
class Table:
    """One BigQuery table declared by a warehouse contract message."""

    name: str
    message: str
    """Full name of the warehouse contract message."""
    source_file: str
    """Path of the contract under ``proto/``."""
    description: str
    partition_column: str
    clustering_columns: tuple[str, ...]
    columns: tuple[Column, ...]
    key_column: str = ""
    """The row key: one fact per key (idempotent writes, the deduplicated view)."""
    ingestion_time_column: str = ""
    """The TIMESTAMP column BigQuery fills on insert; orders a key's rows by arrival."""
    source_event: str = ""
    """Full name of the event contract the rows come from."""
    lines: str = ""
    """Repeated field of the event giving one row per element; empty for one row per event."""
    line_order: tuple[str, ...] = ()
    """Paths under ``lines`` that order (and number) the lines; ``-`` for descending."""
    only_when: str = ""
    """``field = VALUE_NAME``: rows only for events with that enum value; empty for all."""

    @property
    def view_name(self) -> str:
        """Name of the table's deduplicated view: one row per key, the earliest ingested."""
        return f"{self.name}_dedup"

    def to_api_repr(self) -> dict[str, Any]:
        """Return the table as the BigQuery tables API takes it (without its reference).

        The body of ``tables.insert`` and ``bigquery.Table.from_api_repr``:
        schema, daily partitioning on the DATE column, clustering, description.
        """
        return {
            "description": self.description,
            "schema": {"fields": [column.to_api_repr() for column in self.columns]},
            "timePartitioning": {"type": "DAY", "field": self.partition_column},
            "clustering": {"fields": list(self.clustering_columns)},
        }

    def column(self, name: str) -> Column:
        """Return the top-level column called ``name``."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def to_json(self) -> str:
        """Return the table's BigQuery JSON schema: a list of fields, as ``bq mk`` takes it."""
        fields = [column.to_api_repr() for column in self.columns]
        return json.dumps(fields, indent=2, ensure_ascii=False) + "\n"


def enum_labels(enum: descriptor.EnumDescriptor) -> dict[int, str]:
    """Return the warehouse label of each value of ``enum``, by number.

    The label is the value name without the enum's prefix (the zero value's
    name without ``UNSPECIFIED``, as buf's STANDARD lint enforces), in lower
    case: ``ORDER_STATUS_DELIVERED`` is ``"delivered"``.
    """
    prefix = enum.values_by_number[0].name.removesuffix("UNSPECIFIED")
    return {value.number: value.name.removeprefix(prefix).lower() for value in enum.values}


def warehouse_tables(image: ContractImage) -> list[Table]:
    """Return every table declared in the project's files, sorted by table name.

    Raises ContractDefinitionError naming the message and field when a
    declaration breaks a project rule or a BigQuery limit.
    """
    tables = []
    for file in image.own_file_descriptors():
        for message in file.message_types_by_name.values():
            declared = image.option(
                message.GetOptions(), "google.protobuf.MessageOptions", TABLE_OPTION
            )
            if declared is not None:
                tables.append(_table(image, message, declared))
    names = [table.name for table in tables]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ContractDefinitionError(f"tables declared twice: {', '.join(duplicates)}")
    return sorted(tables, key=lambda table: table.name)


def _table(image: ContractImage, message: descriptor.Descriptor, declared: Any) -> Table:
    where = message.full_name
    if not declared.name or not _COLUMN_NAME.match(declared.name):
        raise ContractDefinitionError(f"{where}: table name {declared.name!r} is not a valid name")
    description = image.comment(message.full_name)
    if not description:
        raise ContractDefinitionError(f"{where}: the message needs a comment (table description)")
    columns = tuple(_column(image, field, depth=1) for field in message.fields)
    table = Table(
        name=declared.name,
        message=message.full_name,
        source_file=message.file.name,
        description=description,
        partition_column=declared.partition_column,
        clustering_columns=tuple(declared.clustering_columns),
        columns=columns,
        key_column=getattr(declared, "key_column", ""),
        ingestion_time_column=getattr(declared, "ingestion_time_column", ""),
        source_event=getattr(declared, "source_event", ""),
        lines=getattr(declared, "lines", ""),
        line_order=tuple(getattr(declared, "line_order", ())),
        only_when=getattr(declared, "only_when", ""),
    )
    # Released images older than the row-key options declare no key: judged without it.
    _check_table(table, keyed="key_column" in declared.DESCRIPTOR.fields_by_name)
    return table


def _column(image: ContractImage, field: descriptor.FieldDescriptor, depth: int) -> Column:
    where = field.full_name
    if depth > MAX_NESTING_DEPTH:
        raise ContractDefinitionError(
            f"{where}: nested {depth} levels deep; BigQuery allows {MAX_NESTING_DEPTH}"
        )
    _check_column_name(field.name, where)
    declared = image.option(field.GetOptions(), "google.protobuf.FieldOptions", COLUMN_OPTION)
    required = bool(declared is not None and declared.required)
    pii = bool(declared is not None and declared.pii)
    default = declared.default_value_expression if declared is not None else ""
    repeated = field.is_repeated
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        raise ContractDefinitionError(f"{where}: map fields have no BigQuery column mapping")
    if required and repeated:
        raise ContractDefinitionError(f"{where}: a repeated field cannot be required")
    if required and field.has_presence and field.message_type is None:
        raise ContractDefinitionError(f"{where}: an `optional` field cannot be required")
    if required and default:
        raise ContractDefinitionError(f"{where}: a column with a default value must be NULLABLE")
    description = image.comment(field.full_name)
    if not description:
        raise ContractDefinitionError(f"{where}: the field needs a comment (column description)")
    if pii:
        description += " [PII]"
    if len(description) > MAX_COLUMN_DESCRIPTION:
        raise ContractDefinitionError(
            f"{where}: description has {len(description)} characters; "
            f"BigQuery allows {MAX_COLUMN_DESCRIPTION}"
        )
    mapping, fields = _type(image, field, depth)
    return Column(
        name=field.name,
        json_type=mapping.json_type,
        ddl_type=mapping.ddl_type,
        mode="REPEATED" if repeated else "REQUIRED" if required else "NULLABLE",
        description=description,
        pii=pii,
        default_value_expression=default,
        fields=fields,
        number=field.number,
        source=getattr(declared, "source", "") if declared is not None else "",
    )


def type_mapping(field: descriptor.FieldDescriptor) -> TypeMapping:
    """Return how ``field`` (an element of it, when repeated) maps to a BigQuery type."""
    if field.enum_type is not None:
        return ENUM_TYPE
    if field.message_type is None:
        return SCALAR_TYPES[field.type]
    return MESSAGE_TYPES.get(field.message_type.full_name, MESSAGE_TYPE)


def _type(
    image: ContractImage, field: descriptor.FieldDescriptor, depth: int
) -> tuple[TypeMapping, tuple[Column, ...]]:
    mapping = type_mapping(field)
    if mapping is not MESSAGE_TYPE or field.message_type is None:
        return mapping, ()
    fields = tuple(_column(image, nested, depth + 1) for nested in field.message_type.fields)
    if not fields:
        raise ContractDefinitionError(f"{field.full_name}: a RECORD column needs fields")
    return MESSAGE_TYPE, fields


def _check_column_name(name: str, where: str) -> None:
    if not _COLUMN_NAME.match(name):
        raise ContractDefinitionError(f"{where}: {name!r} is not a valid BigQuery column name")
    upper = name.upper()
    for prefix in RESERVED_COLUMN_PREFIXES:
        if upper.startswith(prefix):
            raise ContractDefinitionError(
                f"{where}: column names starting with {prefix} are reserved by BigQuery"
            )


def _count_columns(columns: tuple[Column, ...]) -> int:
    return sum(1 + _count_columns(column.fields) for column in columns)


def _check_table(table: Table, *, keyed: bool = True) -> None:
    where = f"{table.message} ({table.name})"
    lowered = [column.name.lower() for column in table.columns]
    if len(set(lowered)) != len(lowered):
        raise ContractDefinitionError(f"{where}: column names must differ ignoring case")
    count = _count_columns(table.columns)
    if count > MAX_COLUMNS:
        raise ContractDefinitionError(f"{where}: {count} columns; BigQuery allows {MAX_COLUMNS}")
    names = {column.name for column in table.columns}
    if table.partition_column not in names:
        raise ContractDefinitionError(
            f"{where}: partition column {table.partition_column!r} is not a column"
        )
    partition = table.column(table.partition_column)
    if partition.json_type != "DATE" or partition.mode != "REQUIRED":
        raise ContractDefinitionError(
            f"{where}: partition column {partition.name!r} must be a REQUIRED DATE"
        )
    clustering = table.clustering_columns
    if not 1 <= len(clustering) <= MAX_CLUSTERING_COLUMNS or len(set(clustering)) != len(
        clustering
    ):
        raise ContractDefinitionError(
            f"{where}: clustering needs 1 to {MAX_CLUSTERING_COLUMNS} distinct columns"
        )
    if keyed:
        _check_key_and_ingestion(table, where)
    for name in clustering:
        if name not in names:
            raise ContractDefinitionError(f"{where}: clustering column {name!r} is not a column")
        column = table.column(name)
        if column.mode == "REPEATED" or column.json_type not in CLUSTERABLE_TYPES:
            raise ContractDefinitionError(
                f"{where}: clustering column {name!r} ({column.mode} {column.json_type}) "
                "cannot be clustered on"
            )


def _check_key_and_ingestion(table: Table, where: str) -> None:
    names = {column.name for column in table.columns}
    if table.key_column not in names:
        raise ContractDefinitionError(
            f"{where}: key_column {table.key_column!r} is not a column (every table declares "
            "its row key)"
        )
    key = table.column(table.key_column)
    if key.mode != "REQUIRED" or key.json_type not in {"STRING", "INTEGER"}:
        raise ContractDefinitionError(
            f"{where}: key column {key.name!r} must be a REQUIRED STRING or INTEGER"
        )
    if table.ingestion_time_column not in names:
        raise ContractDefinitionError(
            f"{where}: ingestion_time_column {table.ingestion_time_column!r} is not a column"
        )
    ingested = table.column(table.ingestion_time_column)
    if ingested.json_type != "TIMESTAMP" or not ingested.default_value_expression:
        raise ContractDefinitionError(
            f"{where}: ingestion time column {ingested.name!r} must be a TIMESTAMP with a "
            "default value expression (filled by BigQuery)"
        )
