from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor
TABLE_FIELD_NUMBER: _ClassVar[int]
table: _descriptor.FieldDescriptor
COLUMN_FIELD_NUMBER: _ClassVar[int]
column: _descriptor.FieldDescriptor

class Table(_message.Message):
    __slots__ = ("name", "partition_column", "clustering_columns", "key_column", "ingestion_time_column", "source_event", "lines", "line_order", "only_when")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COLUMN_FIELD_NUMBER: _ClassVar[int]
    CLUSTERING_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    KEY_COLUMN_FIELD_NUMBER: _ClassVar[int]
    INGESTION_TIME_COLUMN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_EVENT_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    LINE_ORDER_FIELD_NUMBER: _ClassVar[int]
    ONLY_WHEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    partition_column: str
    clustering_columns: _containers.RepeatedScalarFieldContainer[str]
    key_column: str
    ingestion_time_column: str
    source_event: str
    lines: str
    line_order: _containers.RepeatedScalarFieldContainer[str]
    only_when: str
    def __init__(self, name: _Optional[str] = ..., partition_column: _Optional[str] = ..., clustering_columns: _Optional[_Iterable[str]] = ..., key_column: _Optional[str] = ..., ingestion_time_column: _Optional[str] = ..., source_event: _Optional[str] = ..., lines: _Optional[str] = ..., line_order: _Optional[_Iterable[str]] = ..., only_when: _Optional[str] = ...) -> None: ...

class Column(_message.Message):
    __slots__ = ("required", "pii", "default_value_expression", "source")
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    PII_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    required: bool
    pii: bool
    default_value_expression: str
    source: str
    def __init__(self, required: _Optional[bool] = ..., pii: _Optional[bool] = ..., default_value_expression: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...
