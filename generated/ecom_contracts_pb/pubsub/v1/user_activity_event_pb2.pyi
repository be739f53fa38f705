from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserActivityEvent(_message.Message):
    __slots__ = ("event_id", "event_timestamp", "user_id", "session_id", "activity_type", "page", "product_id", "search_query", "user_agent", "referrer")
    class ActivityType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ACTIVITY_TYPE_UNSPECIFIED: _ClassVar[UserActivityEvent.ActivityType]
        ACTIVITY_TYPE_PAGE_VIEW: _ClassVar[UserActivityEvent.ActivityType]
        ACTIVITY_TYPE_PRODUCT_VIEW: _ClassVar[UserActivityEvent.ActivityType]
        ACTIVITY_TYPE_SEARCH: _ClassVar[UserActivityEvent.ActivityType]
        ACTIVITY_TYPE_ADD_TO_CART: _ClassVar[UserActivityEvent.ActivityType]
        ACTIVITY_TYPE_REMOVE_FROM_CART: _ClassVar[UserActivityEvent.ActivityType]
        ACTIVITY_TYPE_CHECKOUT: _ClassVar[UserActivityEvent.ActivityType]
        ACTIVITY_TYPE_PURCHASE: _ClassVar[UserActivityEvent.ActivityType]
        ACTIVITY_TYPE_LOGIN: _ClassVar[UserActivityEvent.ActivityType]
        ACTIVITY_TYPE_LOGOUT: _ClassVar[UserActivityEvent.ActivityType]
    ACTIVITY_TYPE_UNSPECIFIED: UserActivityEvent.ActivityType
    ACTIVITY_TYPE_PAGE_VIEW: UserActivityEvent.ActivityType
    ACTIVITY_TYPE_PRODUCT_VIEW: UserActivityEvent.ActivityType
    ACTIVITY_TYPE_SEARCH: UserActivityEvent.ActivityType
    ACTIVITY_TYPE_ADD_TO_CART: UserActivityEvent.ActivityType
    ACTIVITY_TYPE_REMOVE_FROM_CART: UserActivityEvent.ActivityType
    ACTIVITY_TYPE_CHECKOUT: UserActivityEvent.ActivityType
    ACTIVITY_TYPE_PURCHASE: UserActivityEvent.ActivityType
    ACTIVITY_TYPE_LOGIN: UserActivityEvent.ActivityType
    ACTIVITY_TYPE_LOGOUT: UserActivityEvent.ActivityType
    class Timestamp(_message.Message):
        __slots__ = ("seconds", "nanos")
        SECONDS_FIELD_NUMBER: _ClassVar[int]
        NANOS_FIELD_NUMBER: _ClassVar[int]
        seconds: int
        nanos: int
        def __init__(self, seconds: _Optional[int] = ..., nanos: _Optional[int] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SEARCH_QUERY_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    REFERRER_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_timestamp: UserActivityEvent.Timestamp
    user_id: str
    session_id: str
    activity_type: UserActivityEvent.ActivityType
    page: str
    product_id: str
    search_query: str
    user_agent: str
    referrer: str
    def __init__(self, event_id: _Optional[str] = ..., event_timestamp: _Optional[_Union[UserActivityEvent.Timestamp, _Mapping]] = ..., user_id: _Optional[str] = ..., session_id: _Optional[str] = ..., activity_type: _Optional[_Union[UserActivityEvent.ActivityType, str]] = ..., page: _Optional[str] = ..., product_id: _Optional[str] = ..., search_query: _Optional[str] = ..., user_agent: _Optional[str] = ..., referrer: _Optional[str] = ...) -> None: ...
