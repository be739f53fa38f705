"""``python -m contracts stamp``: the producers' package versioned after the registry release.

``ecom-contracts`` ``R.M.P`` holds registry release ``R``; ``M.P`` count fixes
to the package's code that change no contract. After a new release, its
version (``producer/pyproject.toml``) becomes ``R.0.0`` and the pipeline's
distribution (``pyproject.toml``) pins the same version: one copy of the
classes. ``make release-contracts`` stamps after recording the release.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Final

from contracts.errors import ReleaseFilesError
from contracts.layout import REPO
from contracts.registry import REGISTRY, Registry

PRODUCER_PROJECT: Final = "producer/pyproject.toml"
"""The producers' distribution, ``ecom-contracts``, relative to the root."""
PIPELINE_PROJECT: Final = "pyproject.toml"
"""The pipeline's distribution, ``ecom-ingest``, which pins ``ecom-contracts``."""
DESCRIPTION: Final = (
    "Set ecom-contracts' version (producer/pyproject.toml) and ecom-ingest's pin of it "
    "(pyproject.toml) to the latest registry release, R.0.0; a version of that release is kept "
    "(make release-contracts)."
)
EXIT_STATUS: Final = (
    "exit status: 0 stamped (or already following the release), 1 producer/pyproject.toml has no "
    'version = "R.M.P" line, 2 usage error'
)
_VERSION: Final = re.compile(r'^version = "(\d+)\.(\d+)\.(\d+)"$', re.MULTILINE)


def stamp(repo: Path = REPO) -> list[str]:
    """Set ecom-contracts' version and ecom-ingest's pin to the latest release; say what changed.

    A version whose first number already is the release is kept (its fixes count stays).
    """
    releases = Registry.load(repo / REGISTRY).releases
    release = releases[-1].number if releases else 0
    producer = repo / PRODUCER_PROJECT
    text = producer.read_text()
    current = _VERSION.search(text)
    if current is None:
        raise ReleaseFilesError(f'{producer}: no version = "R.M.P" line')
    changed = []
    version = current.group(0).split('"')[1]
    if int(current.group(1)) != release:
        version = f"{release}.0.0"
        producer.write_text(text.replace(current.group(0), f'version = "{version}"'))
        changed.append(f"{PRODUCER_PROJECT}: ecom-contracts {version}")
    pipeline = repo / PIPELINE_PROJECT
    pinned = pipeline.read_text()
    updated = re.sub(r'"ecom-contracts==[^"]*"', f'"ecom-contracts=={version}"', pinned)
    if updated != pinned:
        pipeline.write_text(updated)
        changed.append(f"{PIPELINE_PROJECT}: ecom-ingest depends on ecom-contracts=={version}")
    return changed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``python -m contracts stamp`` to ``parser``."""
    parser.add_argument("--repo", type=Path, default=REPO, help="repository root")


def run(args: argparse.Namespace) -> int:
    """Stamp the versions; say what changed; return the exit status."""
    try:
        changes = stamp(args.repo.resolve())
    except ReleaseFilesError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for change in changes or ["ecom-contracts' version already follows the release"]:
        print(change)
    return 0
