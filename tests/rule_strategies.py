"""Hypothesis strategies of events biased to their protovalidate rules' boundaries.

For every field with rules, values on both sides of each limit (lengths,
ranges, item counts), every enum value and some undefined ones, strings that
match a pattern and near misses (a trailing newline, lower case), e-mail
addresses valid and almost valid, timestamps a nanosecond either side of a
bound and outside what CEL can hold; fields absent and present. Fields
without rules take arbitrary values (:mod:`tests.strategies`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from google.protobuf import descriptor, message_factory
from google.protobuf.message import Message
from hypothesis import strategies as st

from tests import strategies

_FD = descriptor.FieldDescriptor
RulesOf = Callable[[descriptor.FieldDescriptor], Any]
"""The ``buf.validate.FieldRules`` declared on a field, or None."""

_CHARACTERS = st.sampled_from(["a", "Z", "0", "-", " ", "é", "ß", "😀", "\n", "."])
_EMAILS = [
    "ada@example.com",
    "a.b+c@sub.example.co",
    "a@b",
    "@example.com",
    "ada@",
    "ada@@example.com",
    "ada@-example.com",
    "ada@example-.com",
    "ada@example..com",
    "ada@" + "a" * 63 + ".com",
    "ada@" + "a" * 64 + ".com",
    "ada example@example.com",
    "adá@example.com",
    "ada@exämple.com",
    "ada@example.com\n",
    "<ada@example.com>",
    "ada@[127.0.0.1]",
    '"ada"@example.com',
    "",
]
_CEL_SECONDS = (-62135596800, 253402300799)
"""The seconds CEL holds: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z."""


def _around(*limits: int) -> list[int]:
    return sorted({limit + delta for limit in limits for delta in (-1, 0, 1)})


def _strings(rules: Any) -> st.SearchStrategy[str]:
    options: list[st.SearchStrategy[str]] = [st.text(_CHARACTERS, max_size=8)]
    lengths = [0, 1]
    for name in ("min_len", "max_len", "len"):
        if rules.HasField(name):
            lengths += _around(getattr(rules, name))
    lengths = [n for n in lengths if 0 <= n <= 600]
    options.append(
        st.sampled_from(lengths).flatmap(lambda n: st.text(_CHARACTERS, min_size=n, max_size=n))
    )
    if rules.pattern:
        matching = st.from_regex(re.sub(r"\$$", r"\\Z", rules.pattern), fullmatch=False)
        options += [
            matching,
            matching.map(lambda s: s + "\n"),
            matching.map(str.lower),
            matching.map(lambda s: s[1:]),
            matching.map(lambda s: s + "A"),
        ]
    if rules.email:
        options += [st.sampled_from(_EMAILS), st.emails(), st.emails().map(lambda e: e + ".")]
    for listed in (getattr(rules, "in"), rules.not_in):
        if listed:
            options.append(st.sampled_from(list(listed)))
    return st.one_of(options)


def _integers(rules: Any, low: int, high: int) -> st.SearchStrategy[int]:
    limits = [0]
    for name in ("const", "lt", "lte", "gt", "gte"):
        if rules.HasField(name):
            limits.append(getattr(rules, name))
    limits += list(getattr(rules, "in")) + list(rules.not_in)
    edges = [n for n in _around(*limits) if low <= n <= high]
    return st.one_of(st.sampled_from(edges), st.integers(low, high))


_INTEGER_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "sint32": (-(2**31), 2**31 - 1),
    "sfixed32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "sint64": (-(2**63), 2**63 - 1),
    "sfixed64": (-(2**63), 2**63 - 1),
    "uint32": (0, 2**32 - 1),
    "fixed32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
    "fixed64": (0, 2**64 - 1),
}


def _timestamps(rules: Any) -> st.SearchStrategy[tuple[int, int]]:
    """Return ``(seconds, nanos)`` pairs (set field by field: the event's pool may differ)."""
    seconds = [0, 1_700_000_000, *_around(*_CEL_SECONDS)]
    if rules is not None:
        for name in ("lt", "lte", "gt", "gte"):
            if rules.HasField(name):
                seconds += _around(getattr(rules, name).seconds)
    nanos = st.sampled_from([0, 1, 999_999_999, -1, 1_000_000_000])
    return st.tuples(st.one_of(st.sampled_from(seconds), st.integers(-(2**40), 2**40)), nanos)


def _value(
    field: descriptor.FieldDescriptor, rules_of: RulesOf, depth: int
) -> st.SearchStrategy[Any]:
    rules = rules_of(field)
    kind = rules.WhichOneof("type") if rules is not None else None
    if field.is_repeated and kind == "repeated":
        kind = rules.repeated.items.WhichOneof("type") if rules.repeated.HasField("items") else None
        rules = rules.repeated.items if kind else None
    if field.message_type is not None:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            return _timestamps(rules.timestamp if kind == "timestamp" else None)
        return events(field.message_type, rules_of, depth + 1)
    if field.enum_type is not None:
        defined = [v.number for v in field.enum_type.values]
        return st.sampled_from([*defined, -1, max(defined) + 1, 1000])
    if kind == "string":
        return _strings(rules.string)
    if kind in _INTEGER_RANGES:
        return _integers(getattr(rules, kind), *_INTEGER_RANGES[kind])
    return strategies._SCALARS[field.type]


def _count(field: descriptor.FieldDescriptor, rules_of: RulesOf) -> st.SearchStrategy[int]:
    rules = rules_of(field)
    counts = [0, 1, 2]
    if rules is not None and rules.WhichOneof("type") == "repeated":
        for name in ("min_items", "max_items"):
            if rules.repeated.HasField(name):
                counts += _around(getattr(rules.repeated, name))
    return st.sampled_from([n for n in counts if 0 <= n <= 6])


def events(
    message: descriptor.Descriptor, rules_of: RulesOf, depth: int = 0
) -> st.SearchStrategy[Message]:
    """Return instances of ``message`` (a class of ``message_factory``) biased to rule limits."""
    cls = message_factory.GetMessageClass(message)
    if depth > 3:
        return st.just(cls())
    values = {field.name: _value(field, rules_of, depth) for field in message.fields}
    counts = {field.name: _count(field, rules_of) for field in message.fields if field.is_repeated}

    @st.composite
    def build(draw: st.DrawFn) -> Message:
        instance = cls()
        for field in message.fields:
            if field.is_repeated:
                target = getattr(instance, field.name)
                for _ in range(draw(counts[field.name])):
                    item = draw(values[field.name])
                    if isinstance(item, tuple):
                        stamp = target.add()
                        stamp.seconds, stamp.nanos = item
                    elif isinstance(item, Message):
                        target.add().CopyFrom(item)
                    else:
                        target.append(item)
                continue
            if draw(st.integers(0, 5)) == 0:
                continue  # absent
            value = draw(values[field.name])
            if isinstance(value, tuple):
                stamp = getattr(instance, field.name)
                stamp.seconds, stamp.nanos = value
            elif isinstance(value, Message):
                getattr(instance, field.name).CopyFrom(value)
            else:
                setattr(instance, field.name, value)
        return instance

    return build()
