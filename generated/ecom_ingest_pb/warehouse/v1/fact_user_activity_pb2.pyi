import datetime

from ecom_contracts_pb.events.v1 import user_activity_event_pb2 as _user_activity_event_pb2
from ecom_contracts_pb.types.v1 import types_pb2 as _types_pb2
from ecom_ingest_pb.warehouse.v1 import options_pb2 as _options_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FactUserActivity(_message.Message):
    __slots__ = ("event_id", "event_date", "event_timestamp", "user_id", "session_id", "activity_type", "page", "product_id", "search_query", "user_agent", "referrer", "ingestion_timestamp")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_DATE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SEARCH_QUERY_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    REFERRER_FIELD_NUMBER: _ClassVar[int]
    INGESTION_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_date: _types_pb2.Date
    event_timestamp: _timestamp_pb2.Timestamp
    user_id: str
    session_id: str
    activity_type: _user_activity_event_pb2.ActivityType
    page: str
    product_id: str
    search_query: str
    user_agent: str
    referrer: str
    ingestion_timestamp: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., event_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., event_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., user_id: _Optional[str] = ..., session_id: _Optional[str] = ..., activity_type: _Optional[_Union[_user_activity_event_pb2.ActivityType, str]] = ..., page: _Optional[str] = ..., product_id: _Optional[str] = ..., search_query: _Optional[str] = ..., user_agent: _Optional[str] = ..., referrer: _Optional[str] = ..., ingestion_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
