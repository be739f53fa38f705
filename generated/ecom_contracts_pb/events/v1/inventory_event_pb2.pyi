import datetime

from ecom_contracts_pb.buf.validate import validate_pb2 as _validate_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InventoryReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVENTORY_REASON_UNSPECIFIED: _ClassVar[InventoryReason]
    INVENTORY_REASON_RESTOCK: _ClassVar[InventoryReason]
    INVENTORY_REASON_SALE: _ClassVar[InventoryReason]
    INVENTORY_REASON_RETURN: _ClassVar[InventoryReason]
    INVENTORY_REASON_DAMAGE: _ClassVar[InventoryReason]
    INVENTORY_REASON_ADJUSTMENT: _ClassVar[InventoryReason]
INVENTORY_REASON_UNSPECIFIED: InventoryReason
INVENTORY_REASON_RESTOCK: InventoryReason
INVENTORY_REASON_SALE: InventoryReason
INVENTORY_REASON_RETURN: InventoryReason
INVENTORY_REASON_DAMAGE: InventoryReason
INVENTORY_REASON_ADJUSTMENT: InventoryReason

class InventoryEvent(_message.Message):
    __slots__ = ("event_id", "event_timestamp", "product_id", "warehouse_id", "quantity_change", "reason", "order_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_CHANGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_timestamp: _timestamp_pb2.Timestamp
    product_id: str
    warehouse_id: str
    quantity_change: int
    reason: InventoryReason
    order_id: str
    def __init__(self, event_id: _Optional[str] = ..., event_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., product_id: _Optional[str] = ..., warehouse_id: _Optional[str] = ..., quantity_change: _Optional[int] = ..., reason: _Optional[_Union[InventoryReason, str]] = ..., order_id: _Optional[str] = ...) -> None: ...
