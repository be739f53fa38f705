from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderEvent(_message.Message):
    __slots__ = ("event_id", "status", "event_timestamp", "order_id", "customer", "currency", "items", "shipping_address", "payment_method")
    class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderEvent.OrderStatus]
        ORDER_STATUS_PLACED: _ClassVar[OrderEvent.OrderStatus]
        ORDER_STATUS_PAID: _ClassVar[OrderEvent.OrderStatus]
        ORDER_STATUS_SHIPPED: _ClassVar[OrderEvent.OrderStatus]
        ORDER_STATUS_DELIVERED: _ClassVar[OrderEvent.OrderStatus]
        ORDER_STATUS_CANCELLED: _ClassVar[OrderEvent.OrderStatus]
        ORDER_STATUS_RETURNED: _ClassVar[OrderEvent.OrderStatus]
    ORDER_STATUS_UNSPECIFIED: OrderEvent.OrderStatus
    ORDER_STATUS_PLACED: OrderEvent.OrderStatus
    ORDER_STATUS_PAID: OrderEvent.OrderStatus
    ORDER_STATUS_SHIPPED: OrderEvent.OrderStatus
    ORDER_STATUS_DELIVERED: OrderEvent.OrderStatus
    ORDER_STATUS_CANCELLED: OrderEvent.OrderStatus
    ORDER_STATUS_RETURNED: OrderEvent.OrderStatus
    class PaymentMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        PAYMENT_METHOD_UNSPECIFIED: _ClassVar[OrderEvent.PaymentMethod]
        PAYMENT_METHOD_CARD: _ClassVar[OrderEvent.PaymentMethod]
        PAYMENT_METHOD_PAYPAL: _ClassVar[OrderEvent.PaymentMethod]
        PAYMENT_METHOD_BANK_TRANSFER: _ClassVar[OrderEvent.PaymentMethod]
        PAYMENT_METHOD_GIFT_CARD: _ClassVar[OrderEvent.PaymentMethod]
        PAYMENT_METHOD_CASH_ON_DELIVERY: _ClassVar[OrderEvent.PaymentMethod]
    PAYMENT_METHOD_UNSPECIFIED: OrderEvent.PaymentMethod
    PAYMENT_METHOD_CARD: OrderEvent.PaymentMethod
    PAYMENT_METHOD_PAYPAL: OrderEvent.PaymentMethod
    PAYMENT_METHOD_BANK_TRANSFER: OrderEvent.PaymentMethod
    PAYMENT_METHOD_GIFT_CARD: OrderEvent.PaymentMethod
    PAYMENT_METHOD_CASH_ON_DELIVERY: OrderEvent.PaymentMethod
    class Timestamp(_message.Message):
        __slots__ = ("seconds", "nanos")
        SECONDS_FIELD_NUMBER: _ClassVar[int]
        NANOS_FIELD_NUMBER: _ClassVar[int]
        seconds: int
        nanos: int
        def __init__(self, seconds: _Optional[int] = ..., nanos: _Optional[int] = ...) -> None: ...
    class Customer(_message.Message):
        __slots__ = ("customer_id", "name", "email")
        CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
        NAME_FIELD_NUMBER: _ClassVar[int]
        EMAIL_FIELD_NUMBER: _ClassVar[int]
        customer_id: str
        name: str
        email: str
        def __init__(self, customer_id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...
    class LineItem(_message.Message):
        __slots__ = ("product_id", "product_name", "quantity", "unit_price")
        PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
        PRODUCT_NAME_FIELD_NUMBER: _ClassVar[int]
        QUANTITY_FIELD_NUMBER: _ClassVar[int]
        UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
        product_id: str
        product_name: str
        quantity: int
        unit_price: OrderEvent.Money
        def __init__(self, product_id: _Optional[str] = ..., product_name: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[OrderEvent.Money, _Mapping]] = ...) -> None: ...
    class Address(_message.Message):
        __slots__ = ("street", "city", "state", "postal_code", "country")
        STREET_FIELD_NUMBER: _ClassVar[int]
        CITY_FIELD_NUMBER: _ClassVar[int]
        STATE_FIELD_NUMBER: _ClassVar[int]
        POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
        COUNTRY_FIELD_NUMBER: _ClassVar[int]
        street: str
        city: str
        state: str
        postal_code: str
        country: str
        def __init__(self, street: _Optional[str] = ..., city: _Optional[str] = ..., state: _Optional[str] = ..., postal_code: _Optional[str] = ..., country: _Optional[str] = ...) -> None: ...
    class Money(_message.Message):
        __slots__ = ("units", "nanos")
        UNITS_FIELD_NUMBER: _ClassVar[int]
        NANOS_FIELD_NUMBER: _ClassVar[int]
        units: int
        nanos: int
        def __init__(self, units: _Optional[int] = ..., nanos: _Optional[int] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    status: OrderEvent.OrderStatus
    event_timestamp: OrderEvent.Timestamp
    order_id: str
    customer: OrderEvent.Customer
    currency: str
    items: _containers.RepeatedCompositeFieldContainer[OrderEvent.LineItem]
    shipping_address: OrderEvent.Address
    payment_method: OrderEvent.PaymentMethod
    def __init__(self, event_id: _Optional[str] = ..., status: _Optional[_Union[OrderEvent.OrderStatus, str]] = ..., event_timestamp: _Optional[_Union[OrderEvent.Timestamp, _Mapping]] = ..., order_id: _Optional[str] = ..., customer: _Optional[_Union[OrderEvent.Customer, _Mapping]] = ..., currency: _Optional[str] = ..., items: _Optional[_Iterable[_Union[OrderEvent.LineItem, _Mapping]]] = ..., shipping_address: _Optional[_Union[OrderEvent.Address, _Mapping]] = ..., payment_method: _Optional[_Union[OrderEvent.PaymentMethod, str]] = ...) -> None: ...
