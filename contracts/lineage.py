"""Column lineage: where every column of a warehouse contract gets its value.

Each column of a warehouse contract declares its source with
``(ecom.warehouse.v1.column).source``; the table names its event with
``(ecom.warehouse.v1.table).source_event`` (and, for line tables, ``lines``,
``line_order`` and ``only_when``). A source is a field path in the event
(``customer.email``; in a line table ``items.unit_price`` reads the row's
line) or one derivation of :data:`DERIVATIONS`. Columns BigQuery fills with a
default value expression have none.

:func:`resolve` checks every declaration against the event and the one type
mapping of :mod:`contracts.bigquery_schema`, and returns the problems, each
naming table, column and source: a missing or unknown source, a type
that does not convert, a REQUIRED column fed by a source that can be absent.
The row builders (:mod:`contracts.row_builders`) and the lineage in
``docs/contracts.md`` are rendered from what it resolves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from google.protobuf import descriptor

from contracts.bigquery_schema import MESSAGE_TYPE, Column, Table, type_mapping
from contracts.descriptors import ContractImage
from contracts.rules import field_rules
from ecom_warehouse_runtime.schema_changes import WIDENINGS

DERIVATIONS: Final = {
    "date": ("date(ts)", "the UTC date of Timestamp `ts`", "DATE"),
    "count": ("count(repeated)", "the number of elements of a repeated field", "INTEGER"),
    "line_number": (
        "line_number()",
        "the line's position, from 1, in the table's `line_order` (line tables)",
        "INTEGER",
    ),
    "line_key": (
        "line_key(path)",
        "`<value of path>|<line number>`, the line's stable key (line tables)",
        "STRING",
    ),
    "line_total": (
        "line_total(quantity, price)",
        "quantity times the Money price of the row's line, exact (line tables)",
        "NUMERIC",
    ),
    "order_total": (
        "order_total(quantity, price)",
        "the sum over all lines of quantity times the Money price, exact",
        "NUMERIC",
    ),
    "nullif_empty": ("nullif_empty(string)", "the string, NULL when it is empty", "STRING"),
}
"""Every derivation a source can name: its form, what it computes, its BigQuery type."""

_CALL = re.compile(r"^(\w+)\((.*)\)$")
_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def _arguments(text: str) -> list[str]:
    """Return the arguments of a call ``name(a, b)`` as written, stripped."""
    return [argument.strip() for argument in text.split(",") if argument.strip()]


_ARITY: Final = {
    name: len(_arguments(form[form.index("(") + 1 : -1]))
    for name, (form, _, _) in DERIVATIONS.items()
}
"""Arguments each derivation takes, as its form in :data:`DERIVATIONS` shows them."""


@dataclass(frozen=True)
class FieldPath:
    """A resolved field path in an event: the fields it walks through, outermost first."""

    text: str
    fields: tuple[descriptor.FieldDescriptor, ...]
    in_line: bool
    """The path starts at the table's ``lines`` field: it reads the row's line."""

    @property
    def last(self) -> descriptor.FieldDescriptor:
        """The field the path ends at."""
        return self.fields[-1]

    @property
    def within(self) -> tuple[descriptor.FieldDescriptor, ...]:
        """The fields walked from where the path is read (the line's fields for a line path)."""
        return self.fields[1:] if self.in_line else self.fields


@dataclass(frozen=True)
class Source:
    """Where one column's value comes from."""

    column: Column
    text: str
    """The declaration, as written in the contract."""
    derivation: str
    """A key of :data:`DERIVATIONS`, or empty for a plain field path."""
    paths: tuple[FieldPath, ...]
    nullable: bool
    """The value can be absent (NULL)."""


@dataclass(frozen=True)
class Lineage:
    """A warehouse table with every written column's source resolved against its event."""

    table: Table
    event: descriptor.Descriptor
    lines: descriptor.FieldDescriptor | None
    line_order: tuple[tuple[FieldPath, bool], ...]
    """The ordering paths, each with ``True`` when descending."""
    only_when: tuple[descriptor.FieldDescriptor, descriptor.EnumValueDescriptor] | None
    sources: tuple[Source, ...]
    """One per column the pipeline writes, in column order."""


@dataclass(frozen=True)
class SourceProblem:
    """A declaration that does not hold: about a table or a column, and what is wrong."""

    subject: str
    """``table`` or ``table.column``."""
    what: str
    """What is wrong, naming the declared source when there is one."""

    def line(self) -> str:
        """Return the one-line message: ``table.column: source '...': what is wrong``."""
        return f"{self.subject}: {self.what}"


class _SourceProblemError(Exception):
    """A declaration that does not hold; the text names the column and source."""


def _required_by_rules(image: ContractImage, field: descriptor.FieldDescriptor) -> bool:
    rules = field_rules(image, field)
    return bool(rules is not None and rules.required)


def _resolve_path(
    event: descriptor.Descriptor, text: str, lines: descriptor.FieldDescriptor | None
) -> FieldPath:
    if not _PATH.match(text):
        raise _SourceProblemError(f"{text!r} is not a field path")
    message: descriptor.Descriptor | None = event
    fields: list[descriptor.FieldDescriptor] = []
    for part in text.split("."):
        if message is None:
            raise _SourceProblemError(
                f"{'.'.join(f.name for f in fields)} has no fields, so {text} is none"
            )
        found = message.fields_by_name.get(part)
        if found is None:
            raise _SourceProblemError(f"{text} is not a field of {event.full_name}")
        fields.append(found)
        message = found.message_type
    in_line = lines is not None and fields[0] is lines and len(fields) > 1
    for position, walked in enumerate(fields[:-1]):
        if walked.is_repeated and not (in_line and position == 0):
            raise _SourceProblemError(
                f"{text} reads inside repeated field {walked.name}, which gives no single value"
                + ("" if lines is None else f" (only {lines.name}, the table's lines, does)")
            )
    return FieldPath(text, tuple(fields), in_line)


def _can_be_absent(image: ContractImage, path: FieldPath) -> bool:
    """Whether some field the path walks has presence and no protovalidate ``required``."""
    return any(
        field.has_presence and not field.is_repeated and not _required_by_rules(image, field)
        for field in path.within
    )


def _bq_type(field: descriptor.FieldDescriptor) -> str:
    return type_mapping(field).json_type


def _check_converts(
    path: FieldPath, column: Column, column_field: descriptor.FieldDescriptor
) -> None:
    source = path.last
    source_repeated = source.is_repeated
    if source_repeated != (column.mode == "REPEATED"):
        raise _SourceProblemError(
            f"{path.text} is {'repeated' if source_repeated else 'a single value'} and the "
            f"column is {column.mode}"
        )
    _check_field_converts(path.text, source, column, column_field)


def _check_field_converts(
    text: str,
    source: descriptor.FieldDescriptor,
    column: Column,
    target: descriptor.FieldDescriptor,
) -> None:
    have, want = _bq_type(source), column.json_type
    if have != want and (have, want) not in WIDENINGS:
        raise _SourceProblemError(
            f"{text} is {have} ({_proto_type(source)}); it does not convert to {want}"
        )
    if (
        target.enum_type is not None
        and source.enum_type is not None
        and source.enum_type.full_name != target.enum_type.full_name
    ):
        raise _SourceProblemError(
            f"{text} is enum {source.enum_type.full_name}, the column's labels are those of "
            f"{target.enum_type.full_name}"
        )
    if type_mapping(source) is MESSAGE_TYPE:
        assert source.message_type is not None
        assert target.message_type is not None
        nested = source.message_type.fields_by_name
        for sub, sub_field in zip(column.fields, target.message_type.fields, strict=True):
            found = nested.get(sub.name)
            if found is None:
                raise _SourceProblemError(
                    f"{text} has no field {sub.name} for the RECORD's {sub.name}"
                )
            if found.is_repeated != (sub.mode == "REPEATED"):
                raise _SourceProblemError(
                    f"{text}.{sub.name} and the RECORD's field differ in repetition"
                )
            _check_field_converts(f"{text}.{sub.name}", found, sub, sub_field)


def _proto_type(field: descriptor.FieldDescriptor) -> str:
    if field.message_type is not None:
        return str(field.message_type.full_name)
    if field.enum_type is not None:
        return f"enum {field.enum_type.full_name}"
    return type_mapping(field).proto


def _source(
    image: ContractImage,
    table: Table,
    event: descriptor.Descriptor,
    lines: descriptor.FieldDescriptor | None,
    column: Column,
    column_field: descriptor.FieldDescriptor,
) -> Source:
    text = column.source.strip()
    if not text:
        raise _SourceProblemError(
            "has no source: declare (ecom.warehouse.v1.column).source, an event field path "
            "or a derivation"
        )
    call = _CALL.match(text)
    if call is None:
        path = _resolve_path(event, text, lines)
        _check_converts(path, column, column_field)
        return Source(column, text, "", (path,), _can_be_absent(image, path))
    name, arguments = call.group(1), _arguments(call.group(2))
    if name not in DERIVATIONS:
        raise _SourceProblemError(
            f"{name}() is not a derivation (known: {', '.join(sorted(DERIVATIONS))})"
        )
    if len(arguments) != _ARITY[name]:
        raise _SourceProblemError(f"{DERIVATIONS[name][0]} takes {_ARITY[name]} argument(s)")
    if name in ("line_number", "line_key", "line_total") and lines is None:
        raise _SourceProblemError(f"{name}() needs a line table (the table declares no `lines`)")
    if name == "count":
        repeated = _resolve_path(event, arguments[0], None)
        if not repeated.last.is_repeated:
            raise _SourceProblemError(f"{arguments[0]} is not a repeated field")
        paths: tuple[FieldPath, ...] = (repeated,)
    elif name == "order_total":
        paths = tuple(_resolve_in_repeated(event, text, argument) for argument in arguments)
        if paths[0].fields[0] is not paths[1].fields[0]:
            raise _SourceProblemError("both arguments must be fields of the same repeated field")
    else:
        paths = tuple(_resolve_path(event, argument, lines) for argument in arguments)
    result = DERIVATIONS[name][2]
    _check_derivation(name, text, paths, lines)
    if result != column.json_type and (result, column.json_type) not in WIDENINGS:
        raise _SourceProblemError(f"{text} is {result}; it does not convert to {column.json_type}")
    if column.mode == "REPEATED":
        raise _SourceProblemError(f"{text} is a single value and the column is REPEATED")
    nullable = name == "nullif_empty" or any(
        _can_be_absent(image, path) for path in paths if name != "count"
    )
    return Source(column, text, name, paths, nullable)


def _resolve_in_repeated(event: descriptor.Descriptor, text: str, argument: str) -> FieldPath:
    head = argument.split(".", 1)[0]
    repeated = event.fields_by_name.get(head)
    if repeated is None or not repeated.is_repeated or repeated.message_type is None:
        raise _SourceProblemError(f"{argument} is not a field of a repeated message field")
    return _resolve_path(event, argument, repeated)


def _check_derivation(
    name: str, text: str, paths: tuple[FieldPath, ...], lines: descriptor.FieldDescriptor | None
) -> None:
    lasts = [path.last for path in paths]
    if name == "date" and _bq_type(lasts[0]) != "TIMESTAMP":
        raise _SourceProblemError(f"{paths[0].text} is not a google.protobuf.Timestamp")
    if name == "nullif_empty" and _bq_type(lasts[0]) != "STRING":
        raise _SourceProblemError(f"{paths[0].text} is not a string")
    if name == "line_key" and (
        lasts[0].is_repeated or _bq_type(lasts[0]) not in ("STRING", "INTEGER")
    ):
        raise _SourceProblemError(f"{paths[0].text} is not a single string or integer")
    if name in ("line_total", "order_total"):
        quantity, price = paths
        if _bq_type(quantity.last) != "INTEGER" or quantity.last.is_repeated:
            raise _SourceProblemError(f"{quantity.text} is not an integer")
        if price.last.message_type is None or price.last.message_type.full_name != (
            "ecom.types.v1.Money"
        ):
            raise _SourceProblemError(f"{price.text} is not an ecom.types.v1.Money")
        if name == "line_total" and not (quantity.in_line and price.in_line):
            raise _SourceProblemError(
                f"both arguments must be fields of the line ({lines and lines.name})"
            )


def _source_event(image: ContractImage, table: Table) -> descriptor.Descriptor:
    """Return the event ``table`` declares its rows come from (``source_event``)."""
    if not table.source_event:
        raise _SourceProblemError("declares no source_event (the event of its rows)")
    try:
        return image.pool.FindMessageTypeByName(table.source_event)
    except KeyError:
        raise _SourceProblemError(f"source_event {table.source_event} is not a message") from None


def _lines(table: Table, event: descriptor.Descriptor) -> descriptor.FieldDescriptor | None:
    """Return the repeated message field giving one row per element (``lines``), if any."""
    if not table.lines:
        return None
    lines = event.fields_by_name.get(table.lines)
    if lines is None or not lines.is_repeated or lines.message_type is None:
        raise _SourceProblemError(
            f"lines {table.lines!r} is not a repeated message field of {event.full_name}"
        )
    return lines


def _line_order(
    table: Table, event: descriptor.Descriptor, lines: descriptor.FieldDescriptor | None
) -> tuple[list[tuple[FieldPath, bool]], list[SourceProblem]]:
    """Resolve ``line_order``: single fields of the line, only numbers descending."""
    order: list[tuple[FieldPath, bool]] = []
    problems = []
    for entry in table.line_order:
        descending = entry.startswith("-")
        try:
            path = _resolve_path(event, entry.removeprefix("-"), lines)
            if not path.in_line or path.last.is_repeated:
                raise _SourceProblemError(f"{path.text} is not a single field of the line")
            if descending and _bq_type(path.last) not in ("INTEGER", "NUMERIC", "FLOAT"):
                raise _SourceProblemError(
                    f"{path.text} is {_bq_type(path.last)}: only numbers sort descending"
                )
            order.append((path, descending))
        except _SourceProblemError as problem:
            problems.append(SourceProblem(table.name, f"line_order {entry}: {problem}"))
    return order, problems


def _only_when(
    table: Table, event: descriptor.Descriptor
) -> tuple[descriptor.FieldDescriptor, descriptor.EnumValueDescriptor] | None:
    """Resolve ``only_when``, ``enum field = VALUE_NAME``: the events that have rows at all."""
    if not table.only_when:
        return None
    field_name, _, value_name = (part.strip() for part in table.only_when.partition("="))
    found = event.fields_by_name.get(field_name)
    value = found.enum_type.values_by_name.get(value_name) if found and found.enum_type else None
    if found is None or value is None:
        raise _SourceProblemError(
            f"only_when {table.only_when!r} is not `enum field = VALUE_NAME` of {event.full_name}"
        )
    return found, value


def _column_sources(
    image: ContractImage,
    table: Table,
    message: descriptor.Descriptor,
    event: descriptor.Descriptor,
    lines: descriptor.FieldDescriptor | None,
) -> tuple[list[Source], list[SourceProblem]]:
    """Resolve the source of every column the pipeline writes (not BigQuery's defaults)."""
    sources = []
    problems = []
    column_fields = message.fields_by_name
    for column in table.columns:
        if column.default_value_expression:
            continue
        subject = f"{table.name}.{column.name}"
        try:
            source = _source(image, table, event, lines, column, column_fields[column.name])
        except _SourceProblemError as problem:
            declared = f"source {column.source!r}: " if column.source else ""
            problems.append(SourceProblem(subject, f"{declared}{problem}"))
            continue
        if source.nullable and column.mode == "REQUIRED":
            problems.append(
                SourceProblem(
                    subject,
                    f"source {column.source!r}: REQUIRED, but the source can be absent (a "
                    "field with presence that no protovalidate `required` guarantees); make "
                    "the column NULLABLE or require the field",
                )
            )
            continue
        sources.append(source)
    return sources, problems


def resolve(
    image: ContractImage, table: Table, message: descriptor.Descriptor
) -> tuple[Lineage | None, list[SourceProblem]]:
    """Resolve ``table`` (declared by warehouse message ``message``) against its event.

    Returns the lineage (None when a problem prevents it) and every problem.
    """
    try:
        event = _source_event(image, table)
        lines = _lines(table, event)
    except _SourceProblemError as problem:
        return None, [SourceProblem(table.name, str(problem))]
    order, problems = _line_order(table, event, lines)
    only_when = None
    try:
        only_when = _only_when(table, event)
    except _SourceProblemError as problem:
        problems.append(SourceProblem(table.name, str(problem)))
    sources, column_problems = _column_sources(image, table, message, event, lines)
    problems += column_problems
    if problems:
        return None, problems
    return Lineage(table, event, lines, tuple(order), only_when, tuple(sources)), []


def lineages(
    image: ContractImage, tables: list[Table]
) -> tuple[list[Lineage], list[SourceProblem]]:
    """Resolve every table; return the lineages and every problem of every table."""
    resolved: list[Lineage] = []
    problems: list[SourceProblem] = []
    for table in tables:
        lineage, found = resolve(image, table, image.pool.FindMessageTypeByName(table.message))
        problems += found
        if lineage is not None:
            resolved.append(lineage)
    return resolved, problems


def by_event(lineages: list[Lineage]) -> dict[str, list[Lineage]]:
    """Group ``lineages`` by the full name of their event, in name order."""
    grouped: dict[str, list[Lineage]] = {}
    for lineage in lineages:
        grouped.setdefault(lineage.event.full_name, []).append(lineage)
    return dict(sorted(grouped.items()))


def required_fields(image: ContractImage, lineages: list[Lineage]) -> set[str]:
    """Full names of the fields the lineages read that protovalidate requires (always set)."""
    required: set[str] = set()
    for lineage in lineages:
        for source in lineage.sources:
            for path in source.paths:
                required.update(
                    f.full_name
                    for f in path.fields
                    if f.has_presence and _required_by_rules(image, f)
                )
    return required


def pii_fields(lineages: list[Lineage]) -> dict[str, tuple[str, ...]]:
    """Return the event fields that feed a PII column, per event full name, as dotted paths.

    A column is PII by its ``(ecom.warehouse.v1.column).pii``; every field its
    source reads (``customer.email``; ``items.sku`` for a line table's line) is
    personal data in the event too, so producers keep it out of what Pub/Sub
    shows in the clear, such as ordering keys.
    """
    found: dict[str, set[str]] = {}
    for lineage in lineages:
        paths = found.setdefault(lineage.event.full_name, set())
        for source in lineage.sources:
            if source.column.pii:
                paths.update(".".join(f.name for f in path.fields) for path in source.paths)
    return {event: tuple(sorted(paths)) for event, paths in sorted(found.items())}
