"""Validation rules are contracts too: protovalidate rules compared between revisions.

A producer of an older revision keeps sending what that revision allowed, and
the pipeline validates every message with the newest rules. So for every
event contract and every message type reachable from it (fields matched by
number), :func:`compare_rules` finds:

- a rule added to or changed on an existing field, oneof or message (an
  ``int32.lte`` on a quantity, a ``string.pattern``, a CEL expression):
  ``warning``, allowed, but messages from producers of older revisions may now
  be dead-lettered as ``invalid``;
- a rule removed: ``allowed``;
- a new field whose rules a message without it breaks (``required``,
  ``string.min_len: 1`` on a plain string, ``repeated.min_items: 1``,
  ``enum.not_in: [0]``): ``refused``, since every message of an older revision
  lacks it. protovalidate decides this itself, not a list of rule kinds: an
  empty instance of the message type, built from the new image's pool, is
  validated, and the violations whose field path starts at a new field are
  the refusals. A rule that ignores an absent field (``ignore:
  IGNORE_IF_ZERO_VALUE``, or a field with presence) is not violated.
"""

from __future__ import annotations

from typing import Any, Final

import protovalidate
from google.protobuf import descriptor, message_factory, text_format

from contracts.compatibility import ALLOWED, REFUSED, WARNING, Finding
from contracts.descriptors import ContractImage

_DEAD_LETTERED: Final = "messages from producers of older revisions may now be dead-lettered"
_RULE_TYPES: Final = "buf.validate."
_CEL_RULE: Final = "buf.validate.Rule"


def compare_rules(
    old_image: ContractImage,
    new_image: ContractImage,
    old: descriptor.Descriptor,
    new: descriptor.Descriptor,
) -> list[Finding]:
    """Return the findings about the validation rules of event contract ``old`` becoming ``new``.

    Every message type reachable from the event is compared once, under the
    first field path that reaches it (``OrderEvent.items.quantity``).
    """
    validator = protovalidate.Validator()
    findings: list[Finding] = []
    pending = [(new.name, old, new)]
    seen: set[str] = set()
    while pending:
        path, before, after = pending.pop(0)
        if after.full_name in seen:
            continue
        seen.add(after.full_name)
        findings += _compare(
            path,
            _message_rules(old_image, before),
            _message_rules(new_image, after),
            "message rule",
        )
        old_oneofs = {oneof.name: oneof for oneof in before.oneofs}
        for oneof in after.oneofs:
            if oneof.name in old_oneofs:
                findings += _compare(
                    f"{path}.{oneof.name}",
                    _oneof_rules(old_image, old_oneofs[oneof.name]),
                    _oneof_rules(new_image, oneof),
                    "oneof rule",
                )
        old_fields = {field.number: field for field in before.fields}
        added = [field for field in after.fields if field.number not in old_fields]
        if added:
            findings += _refuse_unsatisfiable(validator, new_image, path, after, added)
        for field in after.fields:
            previous = old_fields.get(field.number)
            if previous is None:
                continue
            findings += _compare(
                f"{path}.{field.name}",
                _field_rules(old_image, previous),
                _field_rules(new_image, field),
                "rule",
            )
            if (
                field.message_type is not None
                and previous.message_type is not None
                and field.message_type.full_name == previous.message_type.full_name
            ):
                pending.append((f"{path}.{field.name}", previous.message_type, field.message_type))
    return findings


def _refuse_unsatisfiable(
    validator: protovalidate.Validator,
    image: ContractImage,
    path: str,
    message: descriptor.Descriptor,
    added: list[descriptor.FieldDescriptor],
) -> list[Finding]:
    """Refuse each new field whose rules an instance without it (an older revision's) breaks."""
    empty = message_factory.GetMessageClass(image.pool.FindMessageTypeByName(message.full_name))()
    broken: dict[int, list[str]] = {}
    for violation in validator.collect_violations(empty):
        found = violation.proto
        if found.field is not None and found.field.elements:
            broken.setdefault(found.field.elements[0].field_number, []).append(found.rule_id)
    findings = []
    for field in added:
        rule_ids = broken.get(field.number)
        if rule_ids:
            findings.append(
                Finding(
                    REFUSED,
                    f"{path}.{field.name}",
                    f"new field with rule {', '.join(sorted(set(rule_ids)))}, which every message "
                    "of an older revision (without the field) breaks: they would be "
                    "dead-lettered; make the field optional or add `ignore: IGNORE_IF_ZERO_VALUE`",
                )
            )
    return findings


def _compare(subject: str, old: dict[str, str], new: dict[str, str], kind: str) -> list[Finding]:
    findings = []
    for key, value in sorted(new.items()):
        if key not in old:
            rule = f"validation {kind} {key} = {value} added; {_DEAD_LETTERED}"
        elif old[key] != value:
            rule = f"validation {kind} {key} changed from {old[key]} to {value}; {_DEAD_LETTERED}"
        else:
            continue
        findings.append(Finding(WARNING, subject, rule))
    for key in sorted(set(old) - set(new)):
        findings.append(Finding(ALLOWED, subject, f"validation {kind} {key} removed"))
    return findings


def field_rules(image: ContractImage, field: descriptor.FieldDescriptor) -> Any | None:
    """Return the protovalidate rules declared on ``field`` (``buf.validate.FieldRules``)."""
    return image.option(field.GetOptions(), "google.protobuf.FieldOptions", "buf.validate.field")


def _field_rules(image: ContractImage, field: descriptor.FieldDescriptor) -> dict[str, str]:
    return _flatten(field_rules(image, field))


def _message_rules(image: ContractImage, message: descriptor.Descriptor) -> dict[str, str]:
    options = message.GetOptions()
    rules = image.option(options, "google.protobuf.MessageOptions", "buf.validate.message")
    return _flatten(rules)


def _oneof_rules(image: ContractImage, oneof: descriptor.OneofDescriptor) -> dict[str, str]:
    rules = image.option(oneof.GetOptions(), "google.protobuf.OneofOptions", "buf.validate.oneof")
    return _flatten(rules)


def _flatten(rules: Any | None, prefix: str = "") -> dict[str, str]:
    """Return each rule set in ``rules`` by its protovalidate name (``string.min_len``).

    CEL rules are keyed by id (``cel[inventory.quantity_sign]``); values are
    rendered as text, so that a changed value shows.
    """
    flat: dict[str, str] = {}
    if rules is None:
        return flat
    for field, value in rules.ListFields():
        key = f"{prefix}{field.name}"
        message_type = field.message_type.full_name if field.message_type else ""
        if message_type == _CEL_RULE:
            for rule in value:
                flat[f"{key}[{rule.id or rule.expression}]"] = repr(rule.expression)
        elif field.is_repeated:
            flat[key] = "[" + ", ".join(_text(field, item) for item in value) + "]"
        elif message_type.startswith(_RULE_TYPES):
            flat.update(_flatten(value, f"{key}."))
        else:
            flat[key] = _text(field, value)
    return flat


def _text(field: descriptor.FieldDescriptor, value: Any) -> str:
    if field.message_type is not None:
        return "{" + text_format.MessageToString(value, as_one_line=True) + "}"
    if field.enum_type is not None:
        found = field.enum_type.values_by_number.get(value)
        return found.name if found is not None else str(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value)
    return str(value)
