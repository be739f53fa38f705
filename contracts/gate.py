"""The gate over whole images, and the migrations it writes.

:func:`check` compares an older image of the contracts with a newer one: every
warehouse table (see :mod:`contracts.compatibility`) and its model (what a
row is and what each column means, :mod:`contracts.model_changes`), every
event contract (Pub/Sub revision rules) and its validation rules
(:mod:`contracts.rules`).
:func:`model_findings` judges the newer image alone: every column's source
resolves against its event. :func:`judge` runs both, with buf, as ``make
proto`` does: against every released revision in ``registry/``
(transitively, as Confluent's BACKWARD_TRANSITIVE does), failing on any
refusal, against the baselines of :mod:`contracts.baselines`.
:func:`migrations` renders ``migrations/NNNN.sql``, the DDL each release
needs on the live tables, from the registry's images. ``python -m contracts
gate`` (:func:`run`) prints every finding without generating anything.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path
from typing import Final

from contracts import baselines
from contracts.baselines import Baseline
from contracts.bigquery_schema import warehouse_tables
from contracts.breaking import breaking
from contracts.compatibility import (
    ALLOWED,
    REFUSED,
    WARNING,
    Finding,
    compare_event_schemas,
    compare_tables,
)
from contracts.ddl import render_ddl
from contracts.descriptors import ContractImage
from contracts.errors import ContractBuildError, ContractDefinitionError
from contracts.layout import PROTO, REPO
from contracts.lineage import lineages
from contracts.model_changes import compare_models
from contracts.pubsub_schema import event_messages
from contracts.registry import REGISTRY, Registry
from contracts.rules import compare_rules

DESCRIPTION: Final = (
    "Print every finding of buf breaking and the compatibility gate about proto/ against every "
    "registry release (or a git ref, or a folder holding proto/), grouped by contract, without "
    "generating anything."
)
EXIT_STATUS: Final = (
    "exit status: 0 no refusal, 1 a change is refused (or proto/ does not compile), 2 usage "
    "error (a baseline that holds no proto/)"
)


def model_findings(new: ContractImage) -> list[Finding]:
    """Refuse every column of ``new`` whose source does not hold (see :mod:`contracts.lineage`).

    One finding per problem, about ``table.column``: a column without a source,
    a source that is not in its event, a type that does not convert, a
    REQUIRED column fed by a source that can be absent.
    """
    try:
        tables = warehouse_tables(new)
    except ContractDefinitionError as error:
        return [Finding(REFUSED, "contracts", f"breaks a BigQuery or project rule: {error}")]
    return [Finding(REFUSED, problem.subject, problem.what) for problem in lineages(new, tables)[1]]


def check(old: ContractImage, new: ContractImage) -> list[Finding]:
    """Return every finding for changing the contracts of ``old`` into those of ``new``."""
    try:
        new_tables = {table.name: table for table in warehouse_tables(new)}
        new_events = {event.full_name: event for event in event_messages(new)}
    except ContractDefinitionError as error:
        return [Finding(REFUSED, "contracts", f"breaks a BigQuery or project rule: {error}")]
    old_tables = {table.name: table for table in warehouse_tables(old)}
    findings = []
    for name, table in sorted(old_tables.items()):
        if name not in new_tables:
            findings.append(Finding(REFUSED, name, "table removed; the live table stays"))
            continue
        findings += compare_tables(table, new_tables[name])
    for name, table in sorted(new_tables.items()):
        if name not in old_tables:
            ddl = render_ddl(table).split("\n", 2)[2]  # without the generated-file header
            findings.append(Finding(ALLOWED, name, "new table", ddl.strip()))
    findings += compare_models(old, new)
    for event in event_messages(old):
        replacement = new_events.get(event.full_name)
        if replacement is None:
            findings.append(Finding(REFUSED, event.full_name, "event contract removed"))
            continue
        findings += compare_event_schemas(event, replacement)
        findings += compare_rules(old, new, event, replacement)
    return findings


def check_against_registry(registry: Registry, new: ContractImage) -> list[Finding]:
    """Check ``new`` against every released revision; return each distinct finding once.

    With no release yet, only the model of ``new`` is judged.
    """
    seen = {finding.line(): finding for finding in model_findings(new)}
    for release in registry.releases:
        for finding in check(registry.image(release), new):
            seen.setdefault(finding.line(), finding)
    return list(seen.values())


def judge(
    repo: Path,
    path: Path,
    new: ContractImage,
    baselines: list[Baseline],
    *,
    wire: bool = True,
    compatibility: bool = True,
) -> list[Finding]:
    """Return every distinct finding about the contracts of ``new`` (image file ``path``).

    buf breaking (``wire``, see :mod:`contracts.breaking`; ``repo`` holds
    ``buf.yaml``) against every baseline, the gate (``compatibility``)
    against every live baseline, and the model of ``new``.
    """
    found = model_findings(new) if compatibility else []
    for baseline in baselines:
        if wire:
            found += breaking(repo, path, baseline.path)
        if compatibility and baseline.live:
            found += check(baseline.image, new)
    return list({finding.line(): finding for finding in found}.values())


_ORDER = {REFUSED: 0, WARNING: 1, ALLOWED: 2}


def report(findings: list[Finding], image: ContractImage) -> list[str]:
    """Return ``findings`` as lines grouped by contract (event family, table or file).

    A contract's heading is followed by its findings, refusals first, each
    indented on one line; buf's ``file:line`` findings go under the contract
    of their file.
    """
    try:
        contracts = {event.file.name: event.name for event in event_messages(image)}
    except ContractDefinitionError:  # reported by the gate itself
        contracts = {}
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        file, _, position = finding.subject.partition(".proto:")
        if position:
            contract = contracts.get(f"{file}.proto", f"{file}.proto")
        else:
            contract = finding.subject.split(".", 1)[0]
        groups.setdefault(contract, []).append(finding)
    lines = []
    for contract, members in sorted(groups.items()):
        lines.append(contract)
        members.sort(key=lambda f: (_ORDER.get(f.verdict, 0), f.subject))
        lines += [f"  {finding.line()}" for finding in members]
    return lines


def summary(findings: list[Finding]) -> str:
    """Return the counts of ``findings`` by verdict, in one line."""
    counts = dict.fromkeys(_ORDER, 0)
    for finding in findings:
        counts[finding.verdict] = counts.get(finding.verdict, 0) + 1
    return (
        f"{len(findings)} finding(s): {counts[REFUSED]} refused, {counts[WARNING]} warning(s), "
        f"{counts[ALLOWED]} allowed"
    )


def render_migration(number: int, findings: list[Finding], title: str) -> str | None:
    """Return ``migrations/NNNN.sql`` for ``findings``, or None when nothing needs DDL."""
    statements = [f for f in findings if f.verdict == ALLOWED and f.migration]
    if not statements:
        return None
    lines = [
        f"-- Migration {number:04d}: {title}.",
        "-- Generated by `make proto` from registry/ and proto/. DO NOT EDIT.",
        "-- Every statement is idempotent; `events` is replaced by the deployment's dataset.",
    ]
    for finding in statements:
        lines += ["", f"-- {finding.subject}: {finding.rule}", finding.migration]
    return "\n".join(lines) + "\n"


def migrations(registry: Registry, current: ContractImage) -> dict[str, str]:
    """Return every migration file by path: one per release after the first, and the pending one."""
    files: dict[str, str] = {}
    releases = registry.releases
    for previous, release in itertools.pairwise(releases):
        findings = check(registry.image(previous), registry.image(release))
        text = render_migration(
            release.number, findings, f"release {previous.number} to release {release.number}"
        )
        if text is not None:
            files[f"migrations/{release.number:04d}.sql"] = text
    if releases:
        latest = releases[-1]
        pending = render_migration(
            latest.number + 1,
            check(registry.image(latest), current),
            f"release {latest.number} to the working tree (pending until "
            "`make release-contracts` makes it release "
            f"{latest.number + 1})",
        )
        if pending is not None:
            files[f"migrations/{latest.number + 1:04d}.sql"] = pending
    return files


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``python -m contracts gate`` to ``parser``."""
    parser.add_argument(
        "--against",
        default=baselines.REGISTRY_BASELINES,
        help="registry (every release; the last commit before the first one), git:REF, or a "
        "folder holding proto/",
    )
    parser.add_argument("--repo", type=Path, default=REPO, help="repository root")


def run(args: argparse.Namespace) -> int:
    """Print every finding about ``args.repo``'s contracts against ``args.against``; the status."""
    repo = args.repo.resolve()
    try:
        with tempfile.TemporaryDirectory(prefix="gate-") as temp:
            work = Path(temp)
            current_path, current = baselines.compile_proto(repo / PROTO, work / "current")
            registry = Registry.load(repo / REGISTRY)
            against = baselines.against(args.against, repo, registry, work)
            if against is None:
                print(f"error: {args.against} has no proto/", file=sys.stderr)
                return 2
            findings = judge(repo, current_path, current, against)
            lines = report(findings, current)
    except ContractBuildError as error:
        print(f"gate: error: {error}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    print(summary(findings))
    return 1 if any(f.verdict == REFUSED for f in findings) else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m contracts.gate``: an alias of ``python -m contracts gate``."""
    parser = argparse.ArgumentParser(
        prog="python -m contracts.gate",
        description=f"An alias of `python -m contracts gate`. {DESCRIPTION}",
        epilog=EXIT_STATUS,
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
