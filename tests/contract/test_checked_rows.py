"""The checking row builders against the rules' fast tests and the plain row builders.

``ecom_warehouse.rows.CHECKED_BUILDERS`` read an event once for the rules and
its rows. For every event they must say "invalid" (None) exactly where the
rules' generated fast test does (the pipeline then asks the rules which, so a
dead letter reads as before), and otherwise return exactly the rows of the
plain builder, or fail exactly as it does. Checked on the golden cases and on
events biased to every rule's boundary; a planted difference must be found.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import message_factory, text_format
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings

from contracts.bigquery_schema import warehouse_tables
from contracts.descriptors import ContractImage
from contracts.lineage import lineages, required_fields
from contracts.pubsub_schema import event_messages
from contracts.row_builders import render_rows_module
from contracts.rules import field_rules
from contracts.validation_code import InlineChecks, render_validation_module
from ecom_contracts_pb import validation
from ecom_warehouse import rows
from tests.contract.test_compatibility_catalogue import FIXTURES
from tests.contract.test_validation_code import (
    changed_image,
    generate_with_uncompiled_rule,
    golden_events,
    load,
)
from tests.rule_strategies import events

CONTRACTS = [
    "ecom.events.v1.OrderEvent",
    "ecom.events.v1.InventoryEvent",
    "ecom.events.v1.UserActivityEvent",
]


def rows_text(image: ContractImage) -> str:
    """Render the rows module of ``image``, with its checking builders, as make proto does."""
    resolved, problems = lineages(image, warehouse_tables(image))
    assert not problems, [problem.line() for problem in problems]
    return render_rows_module(
        resolved, required_fields(image, resolved), InlineChecks(image, event_messages(image))
    )


def render(image: ContractImage) -> tuple[dict[str, Any], dict[str, Any]]:
    """Render and load the rows module (with its checking builders) and the rules' module."""
    return load(rows_text(image)), load(render_validation_module(image, event_messages(image)).text)


def outcome(build: Any, event: Message) -> tuple[str, Any]:
    try:
        return "rows", build(event)
    except Exception as error:  # noqa: BLE001 - compared, not swallowed: both must fail alike
        return type(error).__name__, str(error)


def assert_agrees(rows_module: dict[str, Any], checks: dict[str, Any], event: Message) -> None:
    name = event.DESCRIPTOR.full_name
    valid = checks["CHECKS"][name][0](event)
    checked = outcome(rows_module["CHECKED_BUILDERS"][name], event)
    shown = text_format.MessageToString(event)
    if not valid:
        assert checked == ("rows", None), shown
        return
    assert checked[1] is not None, shown
    assert checked == outcome(rows_module["BUILDERS"][name], event), shown


def spliced(valid: Message, drawn: Message) -> Iterator[Message]:
    """Yield copies of ``valid`` with one field, at any depth, taken from ``drawn``.

    A drawn event usually breaks several rules at once; a valid event with one
    field at a rule's boundary is what tells "valid" from "invalid" apart.
    Repeated messages are taken whole and by their first item's fields.
    """
    for member in valid.DESCRIPTOR.fields:
        name = member.name
        copy = type(valid)()
        copy.CopyFrom(valid)
        copy.ClearField(name)
        if member.is_repeated:
            getattr(copy, name).extend(getattr(drawn, name))
        elif member.message_type is not None:
            if drawn.HasField(name):
                getattr(copy, name).CopyFrom(getattr(drawn, name))
        elif not member.has_presence or drawn.HasField(name):
            setattr(copy, name, getattr(drawn, name))
        yield copy
        if member.message_type is None:
            continue
        if member.is_repeated:
            pair = (getattr(valid, name)[:1], getattr(drawn, name)[:1])
        elif valid.HasField(name) and drawn.HasField(name):
            pair = ([getattr(valid, name)], [getattr(drawn, name)])
        else:
            continue
        if not pair[0] or not pair[1]:
            continue
        for inner in spliced(pair[0][0], pair[1][0]):
            copy = type(valid)()
            copy.CopyFrom(valid)
            target = getattr(copy, name)[0] if member.is_repeated else getattr(copy, name)
            target.CopyFrom(inner)
            yield copy


def valid_seeds(checks: dict[str, Any], message: Any) -> list[Message]:
    """Golden events of ``message``'s contract that break no rule, as ``message``'s class.

    A changed contract's new rules may leave none.
    """
    cls = message_factory.GetMessageClass(message)
    seeds = [
        cls.FromString(event.SerializeToString())
        for event in golden_events()
        if event.DESCRIPTOR.full_name == message.full_name
    ]
    return [seed for seed in seeds if checks["CHECKS"][message.full_name][0](seed)][:3]


def differential(
    rows_module: dict[str, Any], checks: dict[str, Any], image: ContractImage, name: str, n: int
) -> None:
    message = image.pool.FindMessageTypeByName(name)
    seeds = valid_seeds(checks, message)  # and the first valid events drawn, below

    @settings(
        max_examples=n, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    @given(events(message, lambda field: field_rules(image, field)))
    def agrees(event: Message) -> None:
        assert_agrees(rows_module, checks, event)
        if len(seeds) < 6 and checks["CHECKS"][name][0](event):
            seeds.append(event)
        for seed in seeds:
            for variant in spliced(seed, event):
                assert_agrees(rows_module, checks, variant)

    agrees()


def test_the_committed_module_is_what_the_generator_renders(image: ContractImage):
    assert Path(rows.__file__).read_text() == rows_text(image)
    assert set(rows.CHECKED_BUILDERS) == set(rows.BUILDERS)


def test_golden_cases_are_judged_as_the_rules_judge_them():
    checks = {"CHECKS": validation.CHECKS}
    module = {"CHECKED_BUILDERS": rows.CHECKED_BUILDERS, "BUILDERS": rows.BUILDERS}
    cases = golden_events()
    invalid = 0
    for event in cases:
        assert_agrees(module, checks, event)
        checked = outcome(rows.CHECKED_BUILDERS[event.DESCRIPTOR.full_name], event)
        invalid += checked == ("rows", None)
    assert invalid > 10, "the golden cases break rules of every kind"


@pytest.mark.parametrize("contract", CONTRACTS)
def test_events_at_every_rule_boundary_are_judged_as_the_rules_judge_them(
    image: ContractImage, contract: str
):
    rows_module, checks = render(image)
    differential(rows_module, checks, image, contract, 1500)


def test_a_planted_difference_is_found(image: ContractImage):
    text = rows_text(image)
    planted = text.replace("(n > 128)", "(n > 129)")
    assert planted != text
    _, checks = render(image)
    with pytest.raises(AssertionError):
        differential(load(planted), checks, image, "ecom.events.v1.OrderEvent", 1500)


# A fixture that changes the rules or the fields they read, and keeps every table fed.
RULE_FIXTURES = [path for path in FIXTURES if "buf.validate" in path.read_text()]


@pytest.mark.parametrize("fixture", RULE_FIXTURES, ids=lambda path: path.stem)
def test_changed_contracts_are_judged_as_their_rules_judge_them(fixture: Path, tmp_path: Path):
    changed = changed_image(fixture, tmp_path)
    rows_module, checks = render(changed)  # asserts every table's column sources hold
    fed = [c.full_name for c in event_messages(changed) if c.full_name in rows_module["BUILDERS"]]
    assert fed
    for contract in fed:  # an event that feeds no table has no builder
        differential(rows_module, checks, changed, contract, 150)


def test_a_message_left_to_protovalidate_is_never_judged_valid_by_the_builder(tmp_path: Path):
    """A rule the generator does not compile: the checking builder leaves every such event."""
    repo, _, changed = generate_with_uncompiled_rule(tmp_path)
    rows_module = load((repo / "generated/ecom_warehouse/rows.py").read_text())
    checks = load((repo / "generated/ecom_contracts_pb/validation.py").read_text())
    differential(rows_module, checks, changed, "ecom.events.v1.OrderEvent", 200)
    order = changed.pool.FindMessageTypeByName("ecom.events.v1.OrderEvent")
    golden = next(e for e in golden_events() if e.DESCRIPTOR.name == "OrderEvent")

    event = message_factory.GetMessageClass(order).FromString(golden.SerializeToString())
    assert rows_module["CHECKED_BUILDERS"]["ecom.events.v1.OrderEvent"](event) is None
