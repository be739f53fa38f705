import datetime

from ecom_contracts_pb.events.v1 import inventory_event_pb2 as _inventory_event_pb2
from ecom_contracts_pb.types.v1 import types_pb2 as _types_pb2
from ecom_ingest_pb.warehouse.v1 import options_pb2 as _options_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FactInventory(_message.Message):
    __slots__ = ("event_id", "event_date", "event_timestamp", "product_id", "warehouse_id", "quantity_change", "reason", "order_id", "ingestion_timestamp")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_DATE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_CHANGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    INGESTION_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_date: _types_pb2.Date
    event_timestamp: _timestamp_pb2.Timestamp
    product_id: str
    warehouse_id: str
    quantity_change: int
    reason: _inventory_event_pb2.InventoryReason
    order_id: str
    ingestion_timestamp: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., event_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., event_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., product_id: _Optional[str] = ..., warehouse_id: _Optional[str] = ..., quantity_change: _Optional[int] = ..., reason: _Optional[_Union[_inventory_event_pb2.InventoryReason, str]] = ..., order_id: _Optional[str] = ..., ingestion_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
