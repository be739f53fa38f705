"""``python -m contracts generate`` and ``check``: regenerate every artifact from ``proto/``.

``make proto`` and ``make check-generated`` run them. Steps: buf format,
compile an image with protoc, buf lint, then buf breaking (events, shared
types, dead letters) and the compatibility gate against every registry
release (buf: the last commit before the first release), reporting every
finding of both grouped by contract, then render Python classes, BigQuery
JSON schemas, DDL, Pub/Sub schemas, the event catalogue, the reference, the
registry revisions and the migrations into a staging tree, and either write
them into the repository or (``check``) compare them with it.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tempfile
from pathlib import Path
from typing import Final

from contracts import baselines, toolchain
from contracts.artifacts import render_artifacts_module
from contracts.baselines import Baseline
from contracts.bigquery_schema import warehouse_tables
from contracts.breaking import WIRE_PATHS
from contracts.catalog import render_catalog_module
from contracts.compatibility import ALLOWED, REFUSED, WARNING, Finding
from contracts.ddl import render_ddl, render_view
from contracts.descriptors import ContractImage
from contracts.errors import (
    ContractBuildError,
    ContractDefinitionError,
    DriftError,
    GateRefusedError,
    ToolchainError,
)
from contracts.gate import judge, migrations, report, summary
from contracts.json_decoders import render_json_module
from contracts.layout import BUF_CONFIG, PROTO, REPO
from contracts.lineage import lineages, required_fields
from contracts.pubsub_schema import event_messages, render_pubsub_schema, schema_file_name
from contracts.raw_tables import raw_tables, render_raw_ddl
from contracts.reference_doc import render_reference
from contracts.registry import REGISTRY, Registry, removed_fields, render_revisions_module
from contracts.row_builders import render_rows_module
from contracts.validation_code import render_validation_module

MANAGED = (
    "generated/**/*",
    "bq_schemas/*",
    "pubsub_schemas/*",
    "sql/*.sql",
    "sql/views/*.sql",
    "sql/raw/*.sql",
    "docs/contracts.md",
    "migrations/*.sql",
)
"""Glob patterns of every generated file, relative to the repository root."""


def _say(message: str) -> None:
    print(f"make proto: {message}", flush=True)


def managed_files(root: Path) -> dict[str, bytes]:
    """Return the generated files under ``root`` by relative path (caches excluded)."""
    files: dict[str, bytes] = {}
    for pattern in MANAGED:
        for path in root.glob(pattern):
            if path.is_file() and "__pycache__" not in path.parts:
                files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def render_all(repo: Path, image: ContractImage, work: Path) -> dict[str, bytes]:
    """Return every file generated from ``repo/proto`` (compiled into ``image``) by path."""
    proto_root = repo / PROTO
    tables = warehouse_tables(image)
    events = event_messages(image)
    raw = raw_tables(image, events)

    stage = work / "stage"
    toolchain.generate_python(proto_root, work, stage / "generated")
    files: dict[str, str] = {}
    for table in tables:
        files[f"bq_schemas/{table.name}.json"] = table.to_json()
        files[f"sql/{table.name}.sql"] = render_ddl(table)
        files[f"sql/views/{table.view_name}.sql"] = render_view(table)
    for raw_table in raw:
        files[f"sql/raw/{raw_table.name}.sql"] = render_raw_ddl(raw_table)
    pubsub_root = work / "pubsub"
    pubsub_sources = []
    for event in events:
        schema = render_pubsub_schema(image, event)
        files[f"pubsub_schemas/{schema_file_name(event)}"] = schema
        source = pubsub_root / "ecom/pubsub/v1" / schema_file_name(event)
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(schema)
        pubsub_sources.append(source.relative_to(pubsub_root).as_posix())
    # Compile the Pub/Sub schemas standalone (no include path but their own
    # folder): proves them self-contained and yields the classes the pipeline
    # decodes JSON-encoded messages with.
    toolchain.protoc(
        [
            f"-I{pubsub_root}",
            f"--python_out={stage / 'generated'}",
            f"--pyi_out={stage / 'generated'}",
            *pubsub_sources,
        ]
    )
    resolved, problems = lineages(image, tables)
    if problems:
        lines = [problem.line() for problem in problems]
        raise ContractDefinitionError("column sources do not hold:\n" + "\n".join(lines))
    files["docs/contracts.md"] = render_reference(image, tables, events, raw, resolved)
    registry = Registry.load(repo / REGISTRY)
    files.update(migrations(registry, image))
    files["generated/ecom/registry_revisions.py"] = render_revisions_module(registry, image)
    files["generated/ecom/catalog.py"] = render_catalog_module(registry, image)
    files["generated/ecom_warehouse/artifacts.py"] = render_artifacts_module(tables, raw, files)
    files["generated/ecom_warehouse/rows.py"] = render_rows_module(
        resolved, required_fields(image, resolved)
    )

    validation = render_validation_module(image, events)
    files["generated/ecom/validation.py"] = validation.text
    for message, rules in validation.fallback.items():
        _say(f"validation: {message} is checked by protovalidate at run time ({'; '.join(rules)})")
    json_decoders, declined = render_json_module(image, events, removed_fields(registry, image))
    files["generated/ecom/json_decoders.py"] = json_decoders
    for contract in declined:
        _say(f"JSON: {contract} is decoded by json_format alone")
    files["generated/ecom_warehouse/__init__.py"] = (
        '"""The warehouse side of the contracts, generated by `make proto`. DO NOT EDIT."""\n'
    )
    for package in ["generated/ecom", "generated/buf", "generated/ecom_warehouse"]:
        files[f"{package}/py.typed"] = ""
    rendered = {path: text.encode() for path, text in files.items()}
    for path in (stage / "generated").rglob("*"):
        if path.is_dir():
            init = path / "__init__.py"
            rendered[init.relative_to(stage).as_posix()] = b""
        else:
            rendered[path.relative_to(stage).as_posix()] = path.read_bytes()
    return rendered


def buf_format(repo: Path, *, check: bool) -> None:
    """Format ``proto/`` in place, or (``check``) fail if it is not formatted."""
    if check:
        try:
            toolchain.buf(["format", PROTO, "--diff", "--exit-code"], cwd=repo)
        except ToolchainError as error:
            raise ToolchainError(f"proto/ is not formatted; run `make proto`.\n{error}") from None
    else:
        toolchain.buf(["format", PROTO, "--write"], cwd=repo)


def buf_lint(repo: Path, image: Path) -> None:
    """Lint the project's files in ``image`` with buf.yaml's rules (STANDARD and COMMENTS)."""
    toolchain.buf(["lint", str(image), "--config", BUF_CONFIG, "--path", "ecom"], cwd=repo)


def judge_change(
    repo: Path,
    path: Path,
    image: ContractImage,
    against: list[Baseline],
    *,
    wire: bool,
    compatibility: bool,
) -> list[Finding]:
    """Run buf breaking and the gate (see :func:`contracts.gate.judge`) and say what they found.

    Prints what was checked, then every finding grouped by contract; raises
    GateRefusedError, carrying every finding, when anything is refused.
    """
    findings = judge(repo, path, image, against, wire=wire, compatibility=compatibility)
    lines = report(findings, image)
    if any(f.verdict == REFUSED for f in findings):
        raise GateRefusedError(
            f"the change is refused ({summary(findings)}); every finding, by contract:\n"
            + "\n".join(lines)
        )
    labels = ", ".join(baseline.label for baseline in against)
    if wire:
        _say(
            f"buf breaking ({', '.join(WIRE_PATHS)}): no wire or JSON breaking change against "
            f"{labels}"
            if against
            else "buf breaking: skipped (no release and no commit with proto/ to compare against)"
        )
    if compatibility:
        live = sum(1 for baseline in against if baseline.live)
        allowed = sum(1 for f in findings if f.verdict == ALLOWED)
        warnings = sum(1 for f in findings if f.verdict == WARNING)
        _say(
            f"compatibility gate: passed against {live} release(s); {allowed} allowed "
            f"change(s), {warnings} warning(s)"
            if live
            else "compatibility gate: the model holds; no released revision yet "
            "(`make release-contracts` records one)"
        )
    for line in lines:
        _say(line)
    return findings


def sync(repo: Path, rendered: dict[str, bytes]) -> tuple[int, int]:
    """Write ``rendered`` into ``repo`` and delete stale generated files; return the counts."""
    existing = managed_files(repo)
    written = removed = 0
    for path, content in rendered.items():
        if existing.get(path) != content:
            target = repo / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            written += 1
    for path in sorted(set(existing) - set(rendered)):
        (repo / path).unlink()
        removed += 1
    return written, removed


def drift(repo: Path, rendered: dict[str, bytes]) -> list[str]:
    """Return a readable report of every difference between ``repo`` and ``rendered``."""
    existing = managed_files(repo)
    report = []
    for path in sorted(set(existing) | set(rendered)):
        if path not in existing:
            report.append(f"missing: {path}")
        elif path not in rendered:
            report.append(f"not generated by proto/ (stale): {path}")
        elif existing[path] != rendered[path]:
            report.append(f"differs: {path}")
            if not path.endswith("_pb2.py"):
                diff = difflib.unified_diff(
                    existing[path].decode(errors="replace").splitlines(),
                    rendered[path].decode(errors="replace").splitlines(),
                    f"committed/{path}",
                    f"generated/{path}",
                    lineterm="",
                )
                report += [f"    {line}" for line in list(diff)[:40]]
    return report


def regenerate(repo: Path, *, check: bool, wire: bool, compatibility: bool) -> None:
    """Judge ``repo/proto`` and regenerate every artifact from it, saying what it does.

    buf format (``check``: fail if unformatted), compile, buf lint, then buf
    breaking (``wire``) and the compatibility gate (``compatibility``) against
    every baseline (:func:`contracts.baselines.of_registry`); then write the
    generated files into ``repo``, or (``check``) raise DriftError listing
    every difference. Raises a ContractBuildError for whatever refuses the change.
    """
    with tempfile.TemporaryDirectory(prefix="contracts-") as temp:
        work = Path(temp)
        buf_format(repo, check=check)
        _say("buf format: ok")
        image, current = baselines.compile_proto(repo / PROTO, work / "image")
        buf_lint(repo, image)
        _say("buf lint: ok (STANDARD, COMMENTS)")
        registry = Registry.load(repo / REGISTRY)
        if wire or compatibility:
            against = baselines.of_registry(repo, registry, work)
            judge_change(repo, image, current, against, wire=wire, compatibility=compatibility)
        rendered = render_all(repo, current, work / "render")
        if check:
            report = drift(repo, rendered)
            if report:
                raise DriftError(
                    "generated files differ from proto/; run `make proto` and commit:\n"
                    + "\n".join(report)
                )
            _say(f"{len(rendered)} generated files match proto/")
        else:
            written, removed = sync(repo, rendered)
            _say(f"{len(rendered)} files generated: {written} written, {removed} removed")
            pending = f"migrations/{len(registry.releases) + 1:04d}.sql"
            if registry.releases and pending in rendered:
                _say(f"migration: {pending} (pending until `make release-contracts`)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``python -m contracts generate`` and ``check`` to ``parser``."""
    parser.add_argument(
        "--skip-breaking",
        action="store_true",
        help="skip buf's breaking-change check (against every release, else the last commit)",
    )
    parser.add_argument(
        "--skip-gate",
        action="store_true",
        help="skip the compatibility gate (a deliberate breaking change, e.g. a new major "
        "version with new topics and tables)",
    )
    parser.add_argument(
        "--repo",
        type=Path,
        default=REPO,
        help="repository root holding proto/ and buf.yaml (default: this checkout)",
    )


def run(args: argparse.Namespace) -> int:
    """Regenerate (``args.check``: compare) as ``args`` say; return the exit status."""
    try:
        regenerate(
            args.repo.resolve(),
            check=args.check,
            wire=not args.skip_breaking,
            compatibility=not args.skip_gate,
        )
    except ContractBuildError as error:
        print(f"make proto: error: {error}", file=sys.stderr)
        return 1
    return 0


GENERATE: Final = (
    "Judge proto/ (buf format, buf lint, buf breaking and the compatibility gate against every "
    "release) and regenerate Python classes, BigQuery schemas, DDL, Pub/Sub schemas, the "
    "catalogue, docs and migrations from it (make proto)."
)
CHECK: Final = (
    "Change nothing; fail if proto/ is unformatted, the change is refused, or a generated file "
    "differs from what proto/ generates (make check-generated)."
)
EXIT_STATUS: Final = (
    "exit status: 0 generated (check: everything matches), 1 the change was refused (format, "
    "lint, buf breaking, the compatibility gate) or generated files drift, 2 usage error"
)


def main(argv: list[str] | None = None) -> int:
    """``python -m contracts.generate [--check]``: an alias of ``python -m contracts generate``."""
    parser = argparse.ArgumentParser(
        prog="python -m contracts.generate",
        description="An alias of `python -m contracts generate` (with --check, of `python -m "
        f"contracts check`). {GENERATE}",
        epilog=EXIT_STATUS,
    )
    parser.add_argument("--check", action="store_true", help=CHECK)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
