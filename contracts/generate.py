"""``make proto`` and ``make check-generated``: regenerate every artifact from ``proto/``.

Steps: buf format, compile an image with protoc, buf lint, buf breaking
against the latest registry release (the last commit before the first
release), the compatibility gate against every release, then render Python
classes, BigQuery JSON schemas, DDL, Pub/Sub schemas, the reference, the
registry revisions and the migrations into a staging tree, and either write
them into the repository or (``--check``) compare them with it.
"""

from __future__ import annotations

import argparse
import difflib
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from contracts import toolchain
from contracts.artifacts import render_artifacts_module
from contracts.bigquery_schema import warehouse_tables
from contracts.compatibility import ALLOWED, REFUSED
from contracts.ddl import render_ddl, render_view
from contracts.descriptors import ContractImage
from contracts.errors import ContractError, DriftError, GateRefusedError, ToolchainError
from contracts.gate import check_against_registry, migrations
from contracts.pubsub_schema import event_messages, render_pubsub_schema, schema_file_name
from contracts.raw_landing import raw_tables, render_raw_ddl
from contracts.reference_doc import render_reference
from contracts.registry import REGISTRY, Registry, render_revisions_module

REPO = Path(__file__).resolve().parent.parent
PROTO = "proto"
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
    files["docs/contracts.md"] = render_reference(image, tables, events, raw)
    registry = Registry.load(repo / REGISTRY)
    files.update(migrations(registry, image))
    files["generated/ecom/registry_revisions.py"] = render_revisions_module(registry, image)
    files["generated/ecom/artifacts.py"] = render_artifacts_module(tables, raw, files)

    for package in ["generated/ecom", "generated/buf"]:
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
    toolchain.buf(["lint", str(image), "--config", "buf.yaml", "--path", "ecom"], cwd=repo)


def image_at_ref(repo: Path, ref: str, work: Path) -> Path | None:
    """Compile ``proto/`` as of git ``ref`` into an image; None when the ref has no proto/."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, PROTO],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        return None
    baseline = work / "baseline"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(baseline, filter="data")
    return toolchain.build_image(baseline / PROTO, baseline / "build")


def buf_breaking(repo: Path, image: Path, work: Path, registry: Registry) -> str:
    """Check wire and JSON compatibility against the latest release, else the last commit.

    Returns what was done; skips (saying so) when there is neither a release
    nor a commit with a ``proto/`` folder yet.
    """
    if registry.releases:
        latest = registry.releases[-1]
        against: Path | None = registry.root / latest.image
        baseline = f"registry release {latest.number}"
    else:
        against = image_at_ref(repo, "HEAD", work)
        baseline = "HEAD (no release in registry/ yet)"
    if against is None:
        return "buf breaking: skipped (no release and no commit with proto/ to compare against)"
    toolchain.buf(
        [
            "breaking",
            str(image),
            "--against",
            str(against),
            "--config",
            "buf.yaml",
            "--path",
            "ecom",
        ],
        cwd=repo,
    )
    return f"buf breaking: no wire or JSON breaking change against {baseline}"


def gate(registry: Registry, image: ContractImage) -> str:
    """Run the compatibility gate against every release; raise GateRefusedError on a refusal."""
    if not registry.releases:
        return "compatibility gate: no released revision yet (`make release-contracts` records one)"
    findings = check_against_registry(registry, image)
    refused = [f.line() for f in findings if f.verdict == REFUSED]
    if refused:
        raise GateRefusedError(
            "the change is not compatible with the released contracts and live tables:\n"
            + "\n".join(refused)
        )
    allowed = sum(1 for f in findings if f.verdict == ALLOWED)
    return (
        f"compatibility gate: passed against {len(registry.releases)} release(s); "
        f"{allowed} allowed change(s)"
    )


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


def main(argv: list[str] | None = None) -> int:
    """Run the generator; return the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m contracts.generate",
        description="Regenerate Python classes, BigQuery schemas, DDL, Pub/Sub schemas and "
        "docs from proto/.",
        epilog="exit status: 0 generated (or, with --check, everything matches), 1 the change "
        "was refused (format, lint, buf breaking, the compatibility gate) or generated files "
        "drift, 2 usage error",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; fail if proto/ is unformatted or a generated file differs",
    )
    parser.add_argument(
        "--skip-breaking",
        action="store_true",
        help="skip buf's breaking-change check (against the latest release, else the last commit)",
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
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    try:
        with tempfile.TemporaryDirectory(prefix="contracts-") as temp:
            work = Path(temp)
            buf_format(repo, check=args.check)
            _say("buf format: ok")
            image = toolchain.build_image(repo / PROTO, work / "image")
            buf_lint(repo, image)
            _say("buf lint: ok (STANDARD, COMMENTS)")
            registry = Registry.load(repo / REGISTRY)
            if not (args.check or args.skip_breaking):
                _say(buf_breaking(repo, image, work, registry))
            current = ContractImage.load(image, toolchain.proto_sources(repo / PROTO))
            if not args.skip_gate:
                _say(gate(registry, current))
            rendered = render_all(repo, current, work / "render")
            if args.check:
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
    except ContractError as error:
        print(f"make proto: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
