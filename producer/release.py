"""``python producer/release.py``: a registry release's files for producers in any language.

  bundle --out DIR   write DIR/ecom-contracts-rNNNN.tar.gz for the latest release (or --release N):
                     the release's descriptor set (rNNNN.binpb: every contract with its imports
                     and comments, buf's image format), the proto/ tree and buf.yaml exactly as
                     released (from the commit that recorded the release, checked to compile to
                     that very image) and an example buf.gen.yaml
  stamp              set ecom-contracts' version (producer/pyproject.toml) and ecom-ingest's pin
                     of it (pyproject.toml) to the latest release, R.0.0 (make release-contracts)

Exit status: 0 done, 1 the release cannot be bundled (not committed, or its proto/ does not
compile to its image), 2 a usage error.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCER = ROOT / "producer"


class ReleaseFilesError(Exception):
    """A release's files cannot be produced as asked (exit status 1)."""


def releases(root: Path = ROOT) -> list[dict[str, object]]:
    """Return the releases recorded in ``registry/index.json``, oldest first."""
    index = json.loads((root / "registry" / "index.json").read_text())
    return list(index["releases"])


def latest_release(root: Path = ROOT) -> int:
    """Return the number of the latest registry release (0 before the first)."""
    recorded = releases(root)
    return int(str(recorded[-1]["number"])) if recorded else 0


def stamp(root: Path = ROOT) -> list[str]:
    """Set ecom-contracts' version and ecom-ingest's pin to the latest release; say what changed.

    A version whose first number already is the release is kept (its fixes count stays).
    """
    release = latest_release(root)
    producer = root / "producer" / "pyproject.toml"
    text = producer.read_text()
    current = re.search(r'^version = "(\d+)\.(\d+)\.(\d+)"$', text, re.MULTILINE)
    if current is None:
        raise ReleaseFilesError(f'{producer}: no version = "R.M.P" line')
    changed = []
    version = current.group(0).split('"')[1]
    if int(current.group(1)) != release:
        version = f"{release}.0.0"
        producer.write_text(text.replace(current.group(0), f'version = "{version}"'))
        changed.append(f"producer/pyproject.toml: ecom-contracts {version}")
    pipeline = root / "pyproject.toml"
    pinned = pipeline.read_text()
    updated = re.sub(r'"ecom-contracts==[^"]*"', f'"ecom-contracts=={version}"', pinned)
    if updated != pinned:
        pipeline.write_text(updated)
        changed.append(f"pyproject.toml: ecom-ingest depends on ecom-contracts=={version}")
    return changed


def release_commit(image: str, root: Path = ROOT) -> str:
    """Return the commit that recorded ``registry/<image>`` (its proto/ is the release's)."""
    found = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", f"registry/{image}"],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    commits = found.stdout.split()
    if found.returncode != 0 or not commits:
        raise ReleaseFilesError(f"registry/{image} is not committed: commit the release first")
    return commits[-1]


def bundle(out: Path, number: int | None = None, root: Path = ROOT) -> Path:
    """Write the release's bundle into ``out`` and return its path."""
    from contracts import toolchain  # the repository's compiler: a development-time check

    recorded = {int(str(r["number"])): r for r in releases(root)}
    number = number if number is not None else max(recorded, default=0)
    if number not in recorded:
        raise ReleaseFilesError(f"no release {number} in registry/index.json")
    release = recorded[number]
    image = str(release["image"])
    commit = release_commit(image, root)
    sources = subprocess.run(
        ["git", "archive", "--format=tar", commit, "proto", "buf.yaml"],
        cwd=root, capture_output=True, check=True,
    ).stdout  # fmt: skip
    name = f"ecom-contracts-r{number:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        with tarfile.open(fileobj=io.BytesIO(sources)) as archive:
            archive.extractall(scratch, filter="data")
        built = toolchain.build_image(Path(scratch) / "proto", Path(scratch) / "build")
        if hashlib.sha256(built.read_bytes()).hexdigest() != release["sha256"]:
            raise ReleaseFilesError(
                f"proto/ at {commit[:12]} does not compile to registry/{image}; not bundled"
            )
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{name}.tar.gz"
        with tarfile.open(target, "w:gz") as archive:
            archive.add(root / "registry" / image, f"{name}/{image}")
            archive.add(Path(scratch) / "buf.yaml", f"{name}/buf.yaml")
            archive.add(Path(scratch) / "proto", f"{name}/proto")
            archive.add(PRODUCER / "buf.gen.yaml", f"{name}/buf.gen.yaml")
    return target


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python producer/release.py",
        description=__doc__.split("\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    bundling = commands.add_parser("bundle", help="write the release's bundle for other languages")
    bundling.add_argument("--out", type=Path, required=True, help="folder to write into")
    bundling.add_argument("--release", type=int, default=None, help="default: the latest")
    commands.add_parser("stamp", help="version ecom-contracts after the latest release")
    args = parser.parse_args(argv)
    try:
        if args.command == "stamp":
            for change in stamp() or ["ecom-contracts' version already follows the release"]:
                print(change)
        else:
            print(f"wrote {bundle(args.out, args.release)}")
    except ReleaseFilesError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
