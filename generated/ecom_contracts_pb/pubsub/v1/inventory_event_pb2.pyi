from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InventoryEvent(_message.Message):
    __slots__ = ("event_id", "event_timestamp", "product_id", "warehouse_id", "quantity_change", "reason", "order_id")
    class InventoryReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        INVENTORY_REASON_UNSPECIFIED: _ClassVar[InventoryEvent.InventoryReason]
        INVENTORY_REASON_RESTOCK: _ClassVar[InventoryEvent.InventoryReason]
        INVENTORY_REASON_SALE: _ClassVar[InventoryEvent.InventoryReason]
        INVENTORY_REASON_RETURN: _ClassVar[InventoryEvent.InventoryReason]
        INVENTORY_REASON_DAMAGE: _ClassVar[InventoryEvent.InventoryReason]
        INVENTORY_REASON_ADJUSTMENT: _ClassVar[InventoryEvent.InventoryReason]
    INVENTORY_REASON_UNSPECIFIED: InventoryEvent.InventoryReason
    INVENTORY_REASON_RESTOCK: InventoryEvent.InventoryReason
    INVENTORY_REASON_SALE: InventoryEvent.InventoryReason
    INVENTORY_REASON_RETURN: InventoryEvent.InventoryReason
    INVENTORY_REASON_DAMAGE: InventoryEvent.InventoryReason
    INVENTORY_REASON_ADJUSTMENT: InventoryEvent.InventoryReason
    class Timestamp(_message.Message):
        __slots__ = ("seconds", "nanos")
        SECONDS_FIELD_NUMBER: _ClassVar[int]
        NANOS_FIELD_NUMBER: _ClassVar[int]
        seconds: int
        nanos: int
        def __init__(self, seconds: _Optional[int] = ..., nanos: _Optional[int] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_CHANGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_timestamp: InventoryEvent.Timestamp
    product_id: str
    warehouse_id: str
    quantity_change: int
    reason: InventoryEvent.InventoryReason
    order_id: str
    def __init__(self, event_id: _Optional[str] = ..., event_timestamp: _Optional[_Union[InventoryEvent.Timestamp, _Mapping]] = ..., product_id: _Optional[str] = ..., warehouse_id: _Optional[str] = ..., quantity_change: _Optional[int] = ..., reason: _Optional[_Union[InventoryEvent.InventoryReason, str]] = ..., order_id: _Optional[str] = ...) -> None: ...
