"""The compatibility gate's catalogue: one committed fixture per kind of contract change.

A fixture in ``mutations/`` states the expected verdict, a part of the finding
it must produce (``expect``) and, for allowed changes, of the migration DDL
(``migration``), then the edits to ``proto/``: ``file``, ``replace`` and
``with`` lines (``\\n`` for new lines). ``--- release`` separates edits that
are released first (the history the final state is checked against, every
release transitively).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from contracts import toolchain
from contracts.compatibility import ALLOWED, REFUSED, Finding
from contracts.descriptors import ContractImage
from contracts.gate import check

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((Path(__file__).parent / "mutations").glob("*.txt"))


@dataclass
class Mutation:
    verdict: str
    expect: str = ""
    migration: str = ""
    steps: list[list[tuple[str, str, str]]] = field(default_factory=lambda: [[]])


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
        elif key == "file":
            current_file = value
        elif key == "replace":
            pending_old = value
        elif key == "with":
            mutation.steps[-1].append((current_file, pending_old, value))
        else:
            raise ValueError(f"{path.name}: unknown key {key!r}")
    return mutation


def _image(root: Path, work: Path) -> ContractImage:
    return ContractImage.load(toolchain.build_image(root, work), toolchain.proto_sources(root))


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> ContractImage:
    return _image(ROOT / "proto", tmp_path_factory.mktemp("baseline"))


def test_catalogue_covers_at_least_twenty_kinds_of_change():
    assert len(FIXTURES) >= 20
    verdicts = {parse(path).verdict for path in FIXTURES}
    assert verdicts == {ALLOWED, REFUSED}


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_gate_verdict(fixture: Path, baseline: ContractImage, tmp_path: Path):
    mutation = parse(fixture)
    root = tmp_path / "proto"
    shutil.copytree(ROOT / "proto", root)
    history = [baseline]
    findings: list[Finding] = []
    for number, step in enumerate(mutation.steps):
        for file, old, new in step:
            target = root / file
            text = target.read_text()
            assert old in text, f"{fixture.name}: {old!r} not found in {file}"
            target.write_text(text.replace(old, new, 1))
        image = _image(root, tmp_path / f"step{number}")
        if number < len(mutation.steps) - 1:
            history.append(image)  # released as it is: the history to check against
            continue
        for release in history:
            findings += check(release, image)
    lines = [f.line() for f in findings]
    refused = [f for f in findings if f.verdict == REFUSED]
    if mutation.verdict == REFUSED:
        assert any(mutation.expect in f.line() for f in refused), lines
    else:
        assert not refused, lines
        if mutation.expect:
            matching = [f for f in findings if mutation.expect in f.line()]
            assert matching, lines
            if mutation.migration:
                assert any(mutation.migration in f.migration for f in matching), [
                    f.migration for f in matching
                ]
        else:
            assert all(not f.migration for f in findings), lines


def test_unchanged_contracts_have_no_findings(baseline: ContractImage):
    assert check(baseline, baseline) == []
