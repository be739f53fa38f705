import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Stage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STAGE_UNSPECIFIED: _ClassVar[Stage]
    STAGE_ROUTE: _ClassVar[Stage]
    STAGE_DECODE: _ClassVar[Stage]
    STAGE_VALIDATE: _ClassVar[Stage]
    STAGE_MODEL: _ClassVar[Stage]
    STAGE_WRITE: _ClassVar[Stage]

class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REASON_UNSPECIFIED: _ClassVar[Reason]
    REASON_UNKNOWN_EVENT: _ClassVar[Reason]
    REASON_DECODE_ERROR: _ClassVar[Reason]
    REASON_INVALID: _ClassVar[Reason]
    REASON_MODELING_ERROR: _ClassVar[Reason]
    REASON_SINK_REJECTED: _ClassVar[Reason]
    REASON_SINK_UNAVAILABLE: _ClassVar[Reason]
STAGE_UNSPECIFIED: Stage
STAGE_ROUTE: Stage
STAGE_DECODE: Stage
STAGE_VALIDATE: Stage
STAGE_MODEL: Stage
STAGE_WRITE: Stage
REASON_UNSPECIFIED: Reason
REASON_UNKNOWN_EVENT: Reason
REASON_DECODE_ERROR: Reason
REASON_INVALID: Reason
REASON_MODELING_ERROR: Reason
REASON_SINK_REJECTED: Reason
REASON_SINK_UNAVAILABLE: Reason

class Violation(_message.Message):
    __slots__ = ("field_path", "rule_id", "message")
    FIELD_PATH_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    field_path: str
    rule_id: str
    message: str
    def __init__(self, field_path: _Optional[str] = ..., rule_id: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class DeadLetter(_message.Message):
    __slots__ = ("data", "attributes", "message_id", "publish_time", "stage", "reason", "detail", "violations", "contract_name", "contract_revision", "pipeline_version", "failed_at")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DATA_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_REVISION_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    FAILED_AT_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    attributes: _containers.ScalarMap[str, str]
    message_id: str
    publish_time: _timestamp_pb2.Timestamp
    stage: Stage
    reason: Reason
    detail: str
    violations: _containers.RepeatedCompositeFieldContainer[Violation]
    contract_name: str
    contract_revision: str
    pipeline_version: str
    failed_at: _timestamp_pb2.Timestamp
    def __init__(self, data: _Optional[bytes] = ..., attributes: _Optional[_Mapping[str, str]] = ..., message_id: _Optional[str] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stage: _Optional[_Union[Stage, str]] = ..., reason: _Optional[_Union[Reason, str]] = ..., detail: _Optional[str] = ..., violations: _Optional[_Iterable[_Union[Violation, _Mapping]]] = ..., contract_name: _Optional[str] = ..., contract_revision: _Optional[str] = ..., pipeline_version: _Optional[str] = ..., failed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
