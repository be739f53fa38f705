"""The compatibility gate's catalogue: one committed fixture per kind of contract change.

A fixture in ``mutations/`` states the expected verdict (``allowed``,
``warning``: allowed with warnings, or ``refused``), a part of the finding it
must produce (``expect``), a part of each warning it must produce
(``warning``, one line each; every warning found must be expected) and, for
allowed changes, of the migration DDL (``migration``), then the edits to
``proto/``: ``file``, ``replace`` and ``with`` lines (``\\n`` for new lines), or
``file`` and ``create`` (the whole text of a new file).
``--- release`` separates edits that are released first (the history the
final state is checked against, every release transitively).

A fixture a rule of :data:`contracts.model_rules.RULES` names must produce
that rule's example, as ``docs/contracts.md`` shows it.

Every fixture is judged as ``make proto`` judges it: buf breaking on the
serialized contracts and the gate, against every release. A fixture with
``scratch: true`` also runs the user's path on a scratch copy of the
repository: ``make proto`` (``python -m contracts generate``) and
``python -m contracts gate``, which must agree.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from contracts import toolchain
from contracts.baselines import Baseline
from contracts.breaking import breaking
from contracts.compatibility import ALLOWED, REFUSED, WARNING, Finding
from contracts.descriptors import ContractImage
from contracts.gate import check, judge, model_findings
from contracts.model_rules import RULES
from tests.contract.scratch import ROOT, edit, run_contracts

FIXTURES = sorted((Path(__file__).parent / "mutations").glob("*.txt"))


@dataclass
class Mutation:
    verdict: str
    expect: str = ""
    migration: str = ""
    warnings: list[str] = field(default_factory=list)
    scratch: bool = False
    steps: list[list[tuple[str, str | None, str]]] = field(default_factory=lambda: [[]])
    """Per step, its edits: (file, text replaced or None for a new file, new text)."""


def parse(path: Path) -> Mutation:
    mutation = Mutation(verdict="")
    current_file = ""
    pending_old = ""
    for line in path.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line == "--- release":
            mutation.steps.append([])
            continue
        key, _, value = line.partition(": ")
        value = value.replace("\\n", "\n")
        if key in ("verdict", "expect", "migration"):
            setattr(mutation, key, value)
        elif key == "warning":
            mutation.warnings.append(value)
        elif key == "scratch":
            mutation.scratch = value == "true"
        elif key == "file":
            current_file = value
        elif key == "replace":
            pending_old = value
        elif key == "with":
            mutation.steps[-1].append((current_file, pending_old, value))
        elif key == "create":
            mutation.steps[-1].append((current_file, None, value))
        else:
            raise ValueError(f"{path.name}: unknown key {key!r}")
    return mutation


def _apply(root: Path, step: list[tuple[str, str | None, str]]) -> None:
    for file, old, new in step:
        if old is None:
            assert not (root / file).exists(), f"{file} exists already"
            (root / file).write_text(new)
        else:
            edit(root / file, old, new)


@dataclass(frozen=True)
class Built:
    path: Path
    image: ContractImage


def _build(root: Path, work: Path) -> Built:
    path = toolchain.build_image(root, work)
    return Built(path, ContractImage.load(path, toolchain.proto_sources(root)))


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(ROOT / "proto", tmp_path_factory.mktemp("baseline"))


def assert_verdict(mutation: Mutation, lines: list[str], migrations: str = "") -> None:
    """Check finding lines (``verdict: subject: rule``) against the fixture's expectations."""
    refused = [line for line in lines if line.startswith(f"{REFUSED}: ")]
    warnings = [line for line in lines if line.startswith(f"{WARNING}: ")]
    if mutation.verdict == REFUSED:
        assert any(mutation.expect in line for line in refused), lines
        return
    assert not refused, lines
    for expected in mutation.warnings:
        assert any(expected in line for line in warnings), (expected, lines)
    unexpected = [w for w in warnings if not any(e in w for e in mutation.warnings)]
    assert not unexpected, unexpected
    assert (mutation.verdict == WARNING) == bool(warnings), lines
    if mutation.expect:
        assert any(mutation.expect in line for line in lines), lines
    if mutation.migration:
        assert mutation.migration in migrations, migrations


def test_catalogue_covers_every_kind_of_verdict():
    assert len(FIXTURES) >= 40
    mutations = [parse(path) for path in FIXTURES]
    assert {m.verdict for m in mutations} == {ALLOWED, WARNING, REFUSED}
    assert {m.verdict for m in mutations if m.scratch} == {ALLOWED, WARNING, REFUSED}


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_gate_verdict(fixture: Path, baseline: Built, tmp_path: Path):
    mutation = parse(fixture)
    root = tmp_path / "proto"
    shutil.copytree(ROOT / "proto", root)
    history = [baseline]
    findings: list[Finding] = []
    for number, step in enumerate(mutation.steps):
        _apply(root, step)
        built = _build(root, tmp_path / f"step{number}")
        if number < len(mutation.steps) - 1:
            history.append(built)  # released as it is: the history to check against
            continue
        releases = [Baseline(f"step {n}", r.path, r.image) for n, r in enumerate(history)]
        findings = judge(ROOT, built.path, built.image, releases)
    migrations = "\n".join(f.migration for f in findings if f.verdict == ALLOWED)
    lines = [f.line() for f in findings]
    assert_verdict(mutation, lines, migrations)
    for rule in RULES:
        if rule.fixture == fixture.stem:
            assert rule.verdict == mutation.verdict
            assert rule.example in lines if rule.example else not lines, (rule.example, lines)
    if mutation.verdict != REFUSED and not mutation.migration:
        assert not migrations, migrations


def test_every_model_rule_has_its_fixture():
    """Every rule of the reference names a fixture, and every model fixture has its rule."""
    stems = {path.stem for path in FIXTURES}
    named = {rule.fixture for rule in RULES}
    assert named <= stems, named - stems
    assert {stem for stem in stems if stem.startswith("model_")} <= named


SCRATCH = [path for path in FIXTURES if parse(path).scratch]


@pytest.mark.parametrize("fixture", SCRATCH, ids=lambda p: p.stem)
def test_make_proto_and_the_gate_agree(fixture: Path, scratch: Path):
    """The user's path: ``make proto`` and ``python -m contracts gate`` on a scratch copy."""
    mutation = parse(fixture)
    assert len(mutation.steps) == 1, "a scratch fixture has no release steps"
    _apply(scratch / "proto", mutation.steps[0])
    generated = run_contracts("generate", scratch)
    gate = run_contracts("gate", scratch)
    expected_status = 1 if mutation.verdict == REFUSED else 0
    assert generated.returncode == expected_status, generated.stdout + generated.stderr
    assert gate.returncode == expected_status, gate.stdout + gate.stderr
    pending = scratch / "migrations/0002.sql"
    migration = pending.read_text() if pending.exists() else ""
    for output in (generated.stdout + generated.stderr, gate.stdout):
        lines = [line.removeprefix("make proto: ").strip() for line in output.splitlines()]
        assert_verdict(mutation, lines, migration)
    if mutation.migration:
        assert "migration: migrations/0002.sql" in generated.stdout


def test_unchanged_contracts_have_no_findings(baseline: Built):
    assert check(baseline.image, baseline.image) == []
    assert model_findings(baseline.image) == []
    assert breaking(ROOT, baseline.path, baseline.path) == []
