import datetime

from ecom_contracts_pb.events.v1 import order_event_pb2 as _order_event_pb2
from ecom_contracts_pb.types.v1 import types_pb2 as _types_pb2
from ecom_ingest_pb.warehouse.v1 import options_pb2 as _options_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FactOrderHeader(_message.Message):
    __slots__ = ("event_id", "order_id", "status", "order_date", "event_timestamp", "customer_id", "customer_name", "customer_email", "currency", "order_total", "item_count", "shipping_address_street", "shipping_address_city", "shipping_address_state", "shipping_address_postal_code", "shipping_address_country", "payment_method", "ingestion_timestamp")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ORDER_DATE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_NAME_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ORDER_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_ADDRESS_STREET_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_ADDRESS_CITY_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_ADDRESS_STATE_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_ADDRESS_POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_ADDRESS_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    INGESTION_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    order_id: str
    status: _order_event_pb2.OrderStatus
    order_date: _types_pb2.Date
    event_timestamp: _timestamp_pb2.Timestamp
    customer_id: str
    customer_name: str
    customer_email: str
    currency: str
    order_total: _types_pb2.Money
    item_count: int
    shipping_address_street: str
    shipping_address_city: str
    shipping_address_state: str
    shipping_address_postal_code: str
    shipping_address_country: str
    payment_method: _order_event_pb2.PaymentMethod
    ingestion_timestamp: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., order_id: _Optional[str] = ..., status: _Optional[_Union[_order_event_pb2.OrderStatus, str]] = ..., order_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., event_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., customer_id: _Optional[str] = ..., customer_name: _Optional[str] = ..., customer_email: _Optional[str] = ..., currency: _Optional[str] = ..., order_total: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., item_count: _Optional[int] = ..., shipping_address_street: _Optional[str] = ..., shipping_address_city: _Optional[str] = ..., shipping_address_state: _Optional[str] = ..., shipping_address_postal_code: _Optional[str] = ..., shipping_address_country: _Optional[str] = ..., payment_method: _Optional[_Union[_order_event_pb2.PaymentMethod, str]] = ..., ingestion_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
