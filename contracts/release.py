"""``make release-contracts``: record the working tree's contracts as a new registry release.

Runs buf breaking and the compatibility gate against every earlier release
first and records nothing if either refuses. Only contracts whose content
changed get a new revision number. ``make release-contracts`` then
regenerates, so the pending migration becomes the new release's migration.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

from contracts import toolchain
from contracts.descriptors import ContractImage
from contracts.errors import ContractBuildError
from contracts.generate import PROTO, REPO, baselines, judge_change
from contracts.registry import REGISTRY, Registry


def main(argv: list[str] | None = None) -> int:
    """Release the contracts; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="make release-contracts",
        description=__doc__.split("\n")[0],
        epilog="exit status: 0 released (or nothing changed since the latest release), 1 the "
        "gate refused the change, 2 usage error",
    )
    parser.add_argument("--repo", type=Path, default=REPO, help="repository root")
    parser.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        default=dt.datetime.now(dt.UTC).date(),
        help="release date, YYYY-MM-DD (default: today, UTC)",
    )
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    registry = Registry.load(repo / REGISTRY)
    try:
        with tempfile.TemporaryDirectory(prefix="release-") as temp:
            work = Path(temp)
            image_path = toolchain.build_image(repo / PROTO, work / "image")
            current = ContractImage.load(image_path, toolchain.proto_sources(repo / PROTO))
            against = baselines(repo, registry, work)
            judge_change(repo, image_path, current, against, wire=True, compatibility=True)
            release = registry.release(image_path.read_bytes(), current, args.date)
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


if __name__ == "__main__":
    sys.exit(main())
