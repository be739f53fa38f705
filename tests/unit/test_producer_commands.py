"""``ecom-contracts example`` and ``check-compatibility``: a producer's first file and its CI gate.

The samples of every contract of the catalogue must pass its rules and the
command's output must pass ``validate``. The compatibility check is judged on
topics described as data: schema settings and the schema's revisions, whose
definitions are named by meaning as the pipeline names them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

import ecom_contracts
from ecom_contracts import _cli, _compatibility
from ecom_contracts._cli import main
from ecom_contracts._examples import examples
from ecom_contracts_pb.registry_revisions import PUBSUB_DEFINITIONS

ORDER = ecom_contracts.contract("order-event")
TOPIC = "projects/p-1/topics/order-events"
SCHEMA = "projects/p-1/schemas/order-event"
R1 = PUBSUB_DEFINITIONS[ORDER.name]["r1"]
# A later revision of the order contract: one more field.
R2 = R1.replace("  PaymentMethod payment_method = 9;\n", "  PaymentMethod payment_method = 9;\n"
                "  string coupon = 10;\n")  # fmt: skip


@pytest.mark.parametrize("contract", ecom_contracts.CONTRACTS, ids=lambda c: c.schema_id)
def test_every_contract_has_samples_that_pass_its_rules(contract: ecom_contracts.Contract):
    samples = examples(contract)
    assert len(samples) >= 2, f"add samples of {contract.name} to ecom_contracts/_examples.py"
    for sample in samples:
        assert ecom_contracts.collect_violations(sample) == []


@pytest.mark.parametrize("fmt", ["json", "pubsub-json"])
@pytest.mark.parametrize("contract", ecom_contracts.CONTRACTS, ids=lambda c: c.schema_id)
def test_example_prints_one_event_per_line_that_validate_accepts(
    contract: ecom_contracts.Contract, fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["example", "--contract", contract.topic_id, "--format", fmt]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == len(examples(contract))
    assert all(line.startswith("{") and line.endswith("}") for line in lines)
    path = tmp_path / "examples.ndjson"
    path.write_text(out)
    assert main(["validate", "--contract", contract.schema_id, "--format", fmt, str(path)]) == 0
    assert f"{len(lines)} valid, 0 refused" in capsys.readouterr().err


def _check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check-compatibility", "--contract", "order-event", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_without_a_topic_the_release_answers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    code, out, _ = _check(capsys)
    assert code == 0
    assert out == (
        "accepted: ecom.events.v1.OrderEvent r1 is in registry release 1: topics deployed from "
        "release 1 or later accept it (the topic itself was not read)\n"
    )
    unreleased = dataclasses.replace(ORDER, revision="r2+dev")
    monkeypatch.setattr(_cli, "contract", lambda name: unreleased)
    code, out, _ = _check(capsys)
    assert code == 1
    assert out.startswith(
        "refused: ecom.events.v1.OrderEvent r2+dev was built from unreleased contract changes"
    )


def _topic_reads(
    monkeypatch: pytest.MonkeyPatch, settings: ecom_contracts.TopicSettings, revisions: Any
) -> None:
    def read(topic: str) -> Any:
        assert topic == TOPIC
        if isinstance(revisions, Exception):
            raise revisions
        return settings, revisions

    monkeypatch.setattr(_cli, "read_topic", read)


BOUND = ecom_contracts.TopicSettings("BINARY", SCHEMA)
TOPICS = {
    # case: (our revision, settings, the schema's revisions oldest first, exit status, says)
    "accepts ours": ("r1", BOUND, [("a1", R1)], 0, "accepts ecom.events.v1.OrderEvent r1: it "
                     "accepts r1 (Pub/Sub revision a1)"),
    "accepts ours among others": (
        "r1", BOUND, [("a1", R1), ("a2", R2)], 0, "it accepts r1 (Pub/Sub revision a1), unknown "
        "(Pub/Sub revision a2)"),
    "ours is newer": ("r2", BOUND, [("a1", R1)], 1, "would refuse ecom.events.v1.OrderEvent r2, "
                      "newer than every revision it accepts"),
    "ours is older than the range": (
        "r1", dataclasses.replace(BOUND, first_revision_id="a2"), [("a1", R1), ("a2", R2)], 1,
        "r1, older than every revision it accepts: move to a newer ecom-contracts (it accepts "
        "r2 (Pub/Sub revision a2))"),
    "another contract's schema": (
        "r1", ecom_contracts.TopicSettings("JSON", "projects/p-1/schemas/inventory-event"), [],
        1, "carries schema inventory-event, not order-event"),
    "no schema": ("r1", ecom_contracts.TopicSettings("BINARY"), [], 0, "has no schema"),
}  # fmt: skip


@pytest.mark.parametrize("case", TOPICS)
def test_a_topic_is_judged_by_the_revisions_it_accepts(
    case: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    ours, settings, revisions, status, says = TOPICS[case]
    monkeypatch.setattr(_cli, "contract", lambda name: dataclasses.replace(ORDER, revision=ours))
    known = {**PUBSUB_DEFINITIONS, ORDER.name: {"r1": R1, "r2": R2}}
    if case != "accepts ours among others":  # there, r2 is a revision this package does not know
        monkeypatch.setattr(_compatibility, "PUBSUB_DEFINITIONS", known)
        monkeypatch.setattr(
            "ecom_contracts._schema_revisions.PUBSUB_DEFINITIONS", known, raising=True
        )
    _topic_reads(monkeypatch, settings, revisions)
    code, out, _ = _check(capsys, "--topic", TOPIC)
    assert code == status, out
    assert out.startswith("accepted: " if status == 0 else "refused: ")
    assert says in out


def test_an_unreadable_topic_falls_back_to_the_release_with_a_warning(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    _topic_reads(monkeypatch, BOUND, ecom_contracts.SchemaLookupError("PermissionDenied: 403"))
    code, out, err = _check(capsys, "--topic", TOPIC)
    assert code == 0
    assert out.startswith("accepted: ecom.events.v1.OrderEvent r1 is in registry release 1")
    assert err.startswith("warning: the topic's schema settings could not be read (")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--topic", "order-events"], "argument --topic: 'order-events' is not projects/"),
        (["--contract", "refund"], "argument --contract: unknown contract 'refund'"),
    ],
)
def test_check_compatibility_usage_errors_exit_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
):
    with pytest.raises(SystemExit) as exit_info:
        main(["check-compatibility", "--contract", "order-event", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert says in err
