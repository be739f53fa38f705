"""Fact rows as the Storage Write API takes them: proto messages described by the fact contracts.

``AppendRows`` takes serialized proto2 messages with the message's
``DescriptorProto`` beside them, one field per column. The descriptor of a
table is built here, once per process, from its generated BigQuery schema
(``WAREHOUSE_TABLES[table]["api"]["schema"]``, which ``make proto`` derives
from the fact contract in ``proto/ecom/warehouse/v1/``), so it follows every
contract change with the tables: a RECORD column is a nested message, a
REPEATED column a repeated field, fields are numbered in column order, and
every field is ``optional`` (BigQuery, not the proto, says a REQUIRED column
is missing). ``ingestion_timestamp`` is a field like any other but rows never
carry it, so BigQuery fills it with the column's default (the request asks
for ``DEFAULT_VALUE`` for missing values).

The pipeline's rows are JSON-ready (:mod:`ecom_warehouse_runtime.fact_rows`); each value is
converted to the wire type BigQuery documents for its column:

=================================== ======================= ==================================
column type                         row value               proto field
=================================== ======================= ==================================
STRING                              str                     string
INTEGER / INT64                     int, or its digits      int64
FLOAT / FLOAT64                     number                  double
BOOLEAN / BOOL                      bool                    bool
NUMERIC, BIGNUMERIC                 exact decimal string    string (range and scale checked)
DATE                                ``YYYY-MM-DD``          int32, days since 1970-01-01
TIMESTAMP                           RFC 3339                int64, microseconds since the epoch
BYTES                               base64                  bytes
DATETIME, TIME, GEOGRAPHY, JSON     str                     string
RECORD / STRUCT                     dict                    nested message
=================================== ======================= ==================================

A value that does not convert (a wrong type, a malformed date, a NUMERIC
beyond its range, a column the table lacks) is a refusal of that row
(``SinkRejectedError``, with the column and why), never a crash: its message
becomes a dead letter and the rest of the batch is written.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from ecom_warehouse.artifacts import WAREHOUSE_TABLES
from ecom_warehouse_runtime.fact_rows import Row
from pipeline.errors import SinkRejectedError

PACKAGE: Final = "ecom_ingest.storage_write"
"""Package of the messages in this process's own pool (BigQuery reads the descriptor alone)."""
_Field = descriptor_pb2.FieldDescriptorProto
_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_TIMESTAMP: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?\Z"
)
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_DAY: Final = dt.date(1970, 1, 1).toordinal()
_MICROSECOND: Final = dt.timedelta(microseconds=1)
_INT64: Final = (-(2**63), 2**63 - 1)
_DECIMALS: Final = {"NUMERIC": (29, 9), "BIGNUMERIC": (38, 38)}
"""Integer digits below the limit and fractional digits kept (BIGNUMERIC: its 76.76, rounded)."""


class ConversionError(ValueError):
    """A row value that cannot become its column's proto value (the message says why)."""


Converter = Callable[[Any], Any]


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ConversionError(f"not a string: {type(value).__name__}")
    return value


def _int64(value: Any) -> int:
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,19}", value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConversionError(f"not an integer: {value!r:.40}")
    if not _INT64[0] <= value <= _INT64[1]:
        raise ConversionError(f"{value} is outside INT64")
    return value


def _float64(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConversionError(f"not a number: {value!r:.40}")
    try:
        return float(value)
    except (ValueError, OverflowError):
        raise ConversionError(f"not a number: {value!r:.40}") from None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ConversionError(f"not a boolean: {value!r:.40}")


def _decimal(kind: str) -> Converter:
    integer_digits, scale = _DECIMALS[kind]

    def convert(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ConversionError(f"not a {kind} decimal string: {value!r:.40}")
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise ConversionError(f"not a {kind} decimal string: {value!r:.40}") from None
        if not amount.is_finite():
            raise ConversionError(f"{value} is not a finite {kind}")
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > scale:
            raise ConversionError(f"{value} has more than {scale} decimal places")
        if amount and amount.adjusted() >= integer_digits:
            raise ConversionError(f"{value} is outside {kind}")
        return format(amount, "f")

    return convert


@functools.lru_cache(maxsize=4096)
def _date(value: str) -> int:
    if not _DATE.match(value):
        raise ConversionError(f"not a YYYY-MM-DD date: {value!r:.40}")
    try:
        return dt.date.fromisoformat(value).toordinal() - _EPOCH_DAY
    except ValueError as error:
        raise ConversionError(f"{value}: {error}") from None


def _date_value(value: Any) -> int:
    if not isinstance(value, str):
        raise ConversionError(f"not a YYYY-MM-DD date: {value!r:.40}")
    return _date(value)


def _timestamp(value: Any) -> int:
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        raise ConversionError(f"not an RFC 3339 timestamp: {value!r:.40}")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise ConversionError(f"{value}: {error}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # as BigQuery reads a zoneless timestamp
    return (moment - _EPOCH) // _MICROSECOND


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise ConversionError(f"not base64 text: {type(value).__name__}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ConversionError(f"not base64 text: {value!r:.40}") from None


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


_SCALARS: Final[dict[str, tuple[_Field.Type.ValueType, Converter]]] = {
    "STRING": (_Field.TYPE_STRING, _string),
    "INTEGER": (_Field.TYPE_INT64, _int64),
    "INT64": (_Field.TYPE_INT64, _int64),
    "FLOAT": (_Field.TYPE_DOUBLE, _float64),
    "FLOAT64": (_Field.TYPE_DOUBLE, _float64),
    "BOOLEAN": (_Field.TYPE_BOOL, _bool),
    "BOOL": (_Field.TYPE_BOOL, _bool),
    "NUMERIC": (_Field.TYPE_STRING, _decimal("NUMERIC")),
    "BIGNUMERIC": (_Field.TYPE_STRING, _decimal("BIGNUMERIC")),
    "DATE": (_Field.TYPE_INT32, _date_value),
    "TIMESTAMP": (_Field.TYPE_INT64, _timestamp),
    "BYTES": (_Field.TYPE_BYTES, _bytes),
    "DATETIME": (_Field.TYPE_STRING, _string),
    "TIME": (_Field.TYPE_STRING, _string),
    "GEOGRAPHY": (_Field.TYPE_STRING, _string),
    "JSON": (_Field.TYPE_STRING, _json),
}


class _Columns:
    """The columns of a table or RECORD: how to convert a row of them into message fields."""

    def __init__(self, converters: dict[str, Converter]) -> None:
        self.converters = converters

    def convert(self, row: Any) -> dict[str, Any]:
        """Return the message fields of ``row`` (absent and null columns left out)."""
        if not isinstance(row, dict):
            raise ConversionError(f"not a record: {type(row).__name__}")
        fields = {}
        for name, value in row.items():
            if value is None:
                continue
            converter = self.converters.get(name)
            if converter is None:
                raise ConversionError(f"{name}: no such column")
            try:
                fields[name] = converter(value)
            except ConversionError as error:
                raise ConversionError(f"{name}: {error}") from None
        return fields


def _repeated(convert: Converter) -> Converter:
    def each(values: Any) -> list[Any]:
        if not isinstance(values, (list, tuple)):
            raise ConversionError(f"REPEATED but not a list: {type(values).__name__}")
        if any(value is None for value in values):
            raise ConversionError("a REPEATED column holds no nulls")
        return [convert(value) for value in values]

    return each


def _describe(
    name: str, fields: list[dict[str, Any]], where: str
) -> tuple[descriptor_pb2.DescriptorProto, _Columns]:
    """Return the message describing ``fields`` and the conversion of their values."""
    message = descriptor_pb2.DescriptorProto(name=name)
    converters: dict[str, Converter] = {}
    for number, field in enumerate(fields, start=1):
        column, kind = field["name"], field["type"].upper()
        if not _IDENTIFIER.match(column):
            raise ValueError(f"{where}.{column}: not a name a proto field can have")
        label = _Field.LABEL_REPEATED if field.get("mode") == "REPEATED" else _Field.LABEL_OPTIONAL
        entry = message.field.add(name=column, number=number, label=label)
        if kind in {"RECORD", "STRUCT"}:
            nested_name = "".join(part.capitalize() for part in column.split("_")) + "Record"
            nested, columns = _describe(nested_name, field["fields"], f"{where}.{column}")
            message.nested_type.append(nested)
            # Relative: BigQuery reads the descriptor alone, in a package of its choosing.
            entry.type = _Field.TYPE_MESSAGE
            entry.type_name = nested_name
            convert: Converter = columns.convert
        elif kind in _SCALARS:
            entry.type, convert = _SCALARS[kind]
        else:
            raise ValueError(f"{where}.{column}: {kind} columns are not written by the pipeline")
        converters[column] = _repeated(convert) if label == _Field.LABEL_REPEATED else convert
    return message, _Columns(converters)


class ProtoRowFormat:
    """One table's rows as proto messages: the descriptor BigQuery is sent, and the encoder."""

    def __init__(self, table: str, fields: list[dict[str, Any]]) -> None:
        self.table = table
        self.descriptor, self._columns = _describe(table, fields, table)
        file = descriptor_pb2.FileDescriptorProto(
            name=f"{PACKAGE}.{table}.proto", package=PACKAGE, syntax="proto2"
        )
        file.message_type.append(self.descriptor)
        pool = descriptor_pool.DescriptorPool()
        pool.Add(file)
        self.message_class: Any = message_factory.GetMessageClass(
            pool.FindMessageTypeByName(f"{PACKAGE}.{table}")
        )

    def encode(self, row: Row) -> bytes:
        """Return ``row`` as a serialized message. Raises SinkRejectedError if it cannot be."""
        try:
            fields = self._columns.convert(row)
        except ConversionError as error:
            raise SinkRejectedError(f"not sent: {error}") from None
        try:
            message = self.message_class(**fields)
        except (TypeError, ValueError) as error:  # a value the message itself refuses
            raise SinkRejectedError(f"not sent: {error}") from None
        serialized: bytes = message.SerializeToString()
        return serialized


@functools.cache
def proto_row_format(table: str) -> ProtoRowFormat:
    """Return ``table``'s row format, built once per process from its generated schema."""
    fields: list[dict[str, Any]] = WAREHOUSE_TABLES[table]["api"]["schema"]["fields"]
    return ProtoRowFormat(table, fields)
