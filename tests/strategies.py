"""Hypothesis strategies that build arbitrary protobuf messages from their descriptors."""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor, timestamp_pb2
from google.protobuf.message import Message
from hypothesis import strategies as st

_FD = descriptor.FieldDescriptor
_INT32 = st.integers(-(2**31), 2**31 - 1)
_INT64 = st.integers(-(2**63), 2**63 - 1)
_UINT32 = st.integers(0, 2**32 - 1)
_UINT64 = st.integers(0, 2**64 - 1)
_SCALARS: dict[int, st.SearchStrategy[Any]] = {
    _FD.TYPE_DOUBLE: st.floats(allow_nan=False),
    _FD.TYPE_FLOAT: st.floats(width=32, allow_nan=False),
    _FD.TYPE_INT32: _INT32,
    _FD.TYPE_SINT32: _INT32,
    _FD.TYPE_SFIXED32: _INT32,
    _FD.TYPE_INT64: _INT64,
    _FD.TYPE_SINT64: _INT64,
    _FD.TYPE_SFIXED64: _INT64,
    _FD.TYPE_UINT32: _UINT32,
    _FD.TYPE_FIXED32: _UINT32,
    _FD.TYPE_UINT64: _UINT64,
    _FD.TYPE_FIXED64: _UINT64,
    _FD.TYPE_BOOL: st.booleans(),
    _FD.TYPE_STRING: st.text(max_size=20),
    _FD.TYPE_BYTES: st.binary(max_size=20),
}


def _value(field: descriptor.FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.enum_type is not None:
        # Open enums: defined values and unknown numbers alike travel on the wire.
        return st.one_of(
            st.sampled_from([v.number for v in field.enum_type.values]), st.integers(0, 1000)
        )
    if field.message_type is not None:
        return messages(field.message_type, depth + 1)
    return _SCALARS[field.type]


def messages(message: descriptor.Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    """Return a strategy of arbitrary instances of ``message`` (nested at most 4 deep)."""
    cls = _message_class(message)
    if depth > 4:
        return st.just(cls())
    fields = {}
    for field in message.fields:
        value = _value(field, depth)
        if field.is_repeated:
            fields[field.name] = st.lists(value, max_size=3)
        else:
            fields[field.name] = st.one_of(st.none(), value)

    @st.composite
    def build(draw: st.DrawFn) -> Message:
        instance = cls()
        for name, strategy in fields.items():
            drawn = draw(strategy)
            if drawn is None:
                continue
            target = getattr(instance, name)
            if isinstance(drawn, list):
                for item in drawn:
                    if isinstance(item, Message):
                        target.add().CopyFrom(item)
                    else:
                        target.append(item)
            elif isinstance(drawn, Message):
                target.CopyFrom(drawn)
            else:
                setattr(instance, name, drawn)
        return instance

    return build()


def _message_class(message: descriptor.Descriptor) -> type[Message]:
    from google.protobuf import message_factory

    if message.full_name == "google.protobuf.Timestamp":
        return timestamp_pb2.Timestamp
    return message_factory.GetMessageClass(message)
