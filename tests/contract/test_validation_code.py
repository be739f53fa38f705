"""The generated validation against protovalidate, its oracle: the same violations, always.

Both run side by side on the golden cases, on events biased to every rule's
boundaries (:mod:`tests.rule_strategies`), and on the contracts as the
catalogue's fixtures change them (each compiled, its checks generated and
loaded, then compared on its own events). A planted difference, a bound off
by one, must be found: the comparison can fail.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import message_factory, text_format
from google.protobuf.message import DecodeError, Message
from hypothesis import HealthCheck, given, settings

from contracts import toolchain
from contracts.descriptors import ContractImage
from contracts.pubsub_schema import event_messages
from contracts.rules import field_rules
from contracts.validation_code import render_validation_module
from ecom_contracts import (
    ValidationEngineMismatchError,
    collect_violations,
    use_validation_engine,
)
from ecom_contracts_pb import validation
from tests.contract.scratch import ROOT, committed_copy, edit, run_contracts
from tests.contract.test_compatibility_catalogue import FIXTURES, _apply, parse
from tests.rule_strategies import events

CASES = ROOT / "tests" / "contract" / "cases"
GOLDEN = ROOT / "tests" / "golden" / "input.ndjson"


def oracle(event: Message) -> list[tuple[str, str, str]]:
    """protovalidate's violations of ``event`` as the generated checks report them."""
    return validation.protovalidate_violations(event)


def load(text: str) -> dict[str, Any]:
    """Execute a rendered validation module; return its namespace."""
    namespace: dict[str, Any] = {}
    exec(compile(text, "validation.py", "exec"), namespace)
    return namespace


def assert_same(checks: dict[str, Any], event: Message) -> None:
    # The loaded module's own protovalidate validator: it caches types by name, and a changed
    # contract's types share their names with today's.
    expected = checks["protovalidate_violations"](event)
    assert checks["violations"](event) == expected, text_format.MessageToString(event)


def golden_events() -> list[Message]:
    from ecom_contracts import BY_NAME

    found: list[Message] = []
    for line in GOLDEN.read_text().splitlines():
        record = json.loads(line)
        known = BY_NAME.get(record["attributes"].get("ecom_contract", ""))
        if known is None:
            continue
        try:
            found.append(known.message.FromString(base64.b64decode(record["data"])))
        except DecodeError:
            continue
    for path in sorted(CASES.rglob("*.textproto")):
        contract = {"order_event": "OrderEvent", "inventory_event": "InventoryEvent"}.get(
            path.parent.name, "UserActivityEvent"
        )
        known = BY_NAME[f"ecom.events.v1.{contract}"]
        found.append(text_format.Parse(path.read_text(), known.message()))
    return found


def test_the_committed_module_is_what_the_generator_renders(image: ContractImage):
    rendered = render_validation_module(image, event_messages(image))
    assert Path(validation.__file__).read_text() == rendered.text
    assert rendered.fallback == {}, "every rule of today's contracts is compiled"


def test_golden_cases_read_exactly_as_protovalidate_reads_them():
    cases = golden_events()
    assert len(cases) > 20
    invalid = 0
    for event in cases:
        found = validation.violations(event)
        assert found == oracle(event), text_format.MessageToString(event)
        invalid += bool(found)
    assert invalid > 10, "the golden cases break rules of every kind"


def _differential(checks: dict[str, Any], image: ContractImage, name: str, examples: int) -> None:
    message = image.pool.FindMessageTypeByName(name)

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(events(message, lambda field: field_rules(image, field)))
    def same(event: Message) -> None:
        assert_same(checks, event)

    same()


@pytest.mark.parametrize(
    "contract",
    [
        "ecom.events.v1.OrderEvent",
        "ecom.events.v1.InventoryEvent",
        "ecom.events.v1.UserActivityEvent",
    ],
)
def test_events_at_every_rule_boundary_read_as_protovalidate_reads_them(
    image: ContractImage, contract: str
):
    checks = load(render_validation_module(image, event_messages(image)).text)
    _differential(checks, image, contract, examples=1500)


def test_a_planted_difference_is_found(image: ContractImage):
    text = render_validation_module(image, event_messages(image)).text
    planted = text.replace("len(v) > 128", "len(v) > 129")
    assert planted != text
    with pytest.raises(AssertionError):
        _differential(load(planted), image, "ecom.events.v1.OrderEvent", examples=1500)


RULE_FIXTURES = [
    path for path in FIXTURES if "buf.validate" in path.read_text() or "event_field" in path.name
]


def changed_image(fixture: Path, tmp_path: Path) -> ContractImage:
    """The contracts as the catalogue's ``fixture`` changes them, compiled under ``tmp_path``."""
    proto = tmp_path / "proto"
    shutil.copytree(ROOT / "proto", proto)
    for step in parse(fixture).steps:
        _apply(proto, step)
    return ContractImage.load(
        toolchain.build_image(proto, tmp_path / "work"), toolchain.proto_sources(proto)
    )


@pytest.mark.parametrize("fixture", RULE_FIXTURES, ids=lambda path: path.stem)
def test_changed_contracts_read_as_protovalidate_reads_them(fixture: Path, tmp_path: Path):
    changed = changed_image(fixture, tmp_path)
    contracts = event_messages(changed)
    checks = load(render_validation_module(changed, contracts).text)
    for contract in contracts:
        _differential(checks, changed, contract.full_name, examples=300)


def test_the_cross_check_engine_raises_on_a_difference(monkeypatch: pytest.MonkeyPatch):
    event = golden_events()[0]
    use_validation_engine("cross-check")
    try:
        found = [(v.field_path, v.rule_id, v.message) for v in collect_violations(event)]
        assert found == oracle(event) != []
        monkeypatch.setattr(validation, "violations", lambda _: [("x", "y", "z")])
        with pytest.raises(ValidationEngineMismatchError, match="protovalidate found"):
            collect_violations(event)
    finally:
        use_validation_engine("generated")


def test_an_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="cross-check"):
        use_validation_engine("fast")


def test_message_factory_classes_of_another_pool_are_checked_too(image: ContractImage):
    cls = message_factory.GetMessageClass(
        image.pool.FindMessageTypeByName("ecom.events.v1.InventoryEvent")
    )
    event = cls(event_id="e", product_id="p", warehouse_id="w", quantity_change=5, reason=2)
    found = validation.violations(event)
    assert found == oracle(event)
    assert ("", "inventory.quantity_sign") in [(path, rule) for path, rule, _ in found]


def generate_with_uncompiled_rule(tmp_path: Path) -> tuple[Path, str, ContractImage]:
    """``make proto`` on a scratch copy whose Address has a rule the generator does not compile.

    Returns the copy, what the command printed, and its compiled contracts.
    """
    repo = committed_copy(tmp_path / "repo")
    edit(
        repo / "proto/ecom/events/v1/order_event.proto",
        "string state = 3 [(buf.validate.field).string.max_len = 256];",
        "string state = 3 [(buf.validate.field).string.hostname = true];",
    )
    result = run_contracts("generate", repo)
    assert result.returncode == 0, result.stdout + result.stderr
    changed = ContractImage.load(
        toolchain.build_image(repo / "proto", tmp_path / "work"),
        toolchain.proto_sources(repo / "proto"),
    )
    return repo, result.stdout, changed


def test_a_rule_the_generator_does_not_compile_is_left_to_protovalidate(tmp_path: Path):
    repo, printed, changed = generate_with_uncompiled_rule(tmp_path)
    assert (
        "validation: ecom.events.v1.Address is checked by protovalidate at run time "
        "(state: string.hostname)" in printed
    ), printed
    rendered = render_validation_module(changed, event_messages(changed))
    assert rendered.fallback == {"ecom.events.v1.Address": ["state: string.hostname"]}
    assert (repo / "generated/ecom_contracts_pb/validation.py").read_text() == rendered.text
    _differential(load(rendered.text), changed, "ecom.events.v1.OrderEvent", examples=300)
