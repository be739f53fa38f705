"""``python -m contracts release``: record the working tree's contracts as a new registry release.

Runs buf breaking and the compatibility gate against every earlier release
first and records nothing if either refuses. Only contracts whose content
changed get a new revision number. ``make release-contracts`` then
regenerates, so the pending migration becomes the new release's migration,
and stamps the producers' package version (``python -m contracts stamp``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Final

from contracts import baselines
from contracts.errors import ContractBuildError
from contracts.generate import judge_change
from contracts.layout import PROTO, REPO
from contracts.registry import REGISTRY, Registry, Release

DESCRIPTION: Final = (
    "Record proto/ as a new registry release (registry/rNNNN.binpb and index.json), after buf "
    "breaking and the compatibility gate pass against every release (make release-contracts)."
)
EXIT_STATUS: Final = (
    "exit status: 0 released (or nothing changed since the latest release), 1 the gate refused "
    "the change, 2 usage error"
)


def record_release(repo: Path, date: dt.date) -> tuple[Registry, Release | None]:
    """Judge ``repo/proto`` against every release, then record it as a release dated ``date``.

    Returns the registry and the new release (None when no contract changed);
    raises a ContractBuildError, recording nothing, when the change is refused.
    """
    registry = Registry.load(repo / REGISTRY)
    with tempfile.TemporaryDirectory(prefix="release-") as temp:
        work = Path(temp)
        image_path, current = baselines.compile_proto(repo / PROTO, work / "image")
        against = baselines.of_registry(repo, registry, work)
        judge_change(repo, image_path, current, against, wire=True, compatibility=True)
        return registry, registry.release(image_path.read_bytes(), current, date)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``python -m contracts release`` to ``parser``."""
    parser.add_argument("--repo", type=Path, default=REPO, help="repository root")
    parser.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        default=dt.datetime.now(dt.UTC).date(),
        help="release date, YYYY-MM-DD (default: today, UTC)",
    )


def run(args: argparse.Namespace) -> int:
    """Release the contracts as ``args`` say; say which contracts moved; return the status."""
    try:
        registry, release = record_release(args.repo.resolve(), args.date)
    except ContractBuildError as error:
        print(f"release-contracts: error: {error}", file=sys.stderr)
        return 1
    if release is None:
        print(
            f"nothing to release: no contract changed since release {registry.releases[-1].number}"
        )
        return 0
    previous = registry.releases[-2].contracts if len(registry.releases) > 1 else {}
    changed = [
        f"{name} r{entry['revision']}"
        for name, entry in release.contracts.items()
        if previous.get(name) != entry
    ]
    print(f"release {release.number} ({release.date}): " + ", ".join(changed))
    return 0
