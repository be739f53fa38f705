"""``python -m contracts bundle``: a registry release's files for producers in other languages.

``DIR/ecom-contracts-rNNNN.tar.gz`` holds the release's descriptor set
(``rNNNN.binpb``: every contract with its imports and comments, buf's image
format), the ``proto/`` tree and ``buf.yaml`` exactly as released (from the
commit that recorded the release, checked to compile to that very image)
and one ``buf generate`` template per language (``producer/buf.gen/``:
``buf.gen.ts.yaml``, ``buf.gen.python.yaml``, ``buf.gen.java.yaml``,
``buf.gen.go.yaml``), each with local plugins only, so generating needs no
network. ``make dist`` writes the latest release's into ``dist/``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Final

from contracts import baselines, toolchain
from contracts.errors import ReleaseFilesError
from contracts.layout import BUF_CONFIG, PROTO, REPO
from contracts.registry import REGISTRY, Registry, Release

GENERATION_TEMPLATES: Final = "producer/buf.gen"
"""The ``buf generate`` templates (one per language) shipped in every bundle, from the root."""
DESCRIPTION: Final = (
    "Write DIR/ecom-contracts-rNNNN.tar.gz for the latest release (or --release N): its "
    "descriptor set, proto/ and buf.yaml exactly as released (from the commit that recorded the "
    "release, checked to compile to that very image) and a buf generate template per language "
    "(make dist)."
)
EXIT_STATUS: Final = (
    "exit status: 0 written, 1 the release cannot be bundled (no such release, not committed, "
    "or its proto/ does not compile to its image), 2 usage error"
)


def _release(registry: Registry, number: int | None) -> Release:
    """Return release ``number`` of ``registry`` (None: the latest); ReleaseFilesError if none."""
    recorded = {release.number: release for release in registry.releases}
    number = number if number is not None else max(recorded, default=0)
    if number not in recorded:
        raise ReleaseFilesError(f"no release {number} in {REGISTRY}/index.json")
    return recorded[number]


def _released_sources(repo: Path, registry: Registry, release: Release, target: Path) -> None:
    """Write ``proto/`` and ``buf.yaml`` as ``release`` recorded them into ``target``.

    Raises ReleaseFilesError when the release is not committed, or when those
    sources do not compile to the release's image.
    """
    image = f"{REGISTRY}/{release.image}"
    commit = baselines.release_commit(repo, registry, release)
    if commit is None:
        raise ReleaseFilesError(f"{image} is not committed: commit the release first")
    if not baselines.sources_at(repo, commit, [PROTO, BUF_CONFIG], target):
        raise ReleaseFilesError(f"{commit[:12]} holds no {PROTO}/ and {BUF_CONFIG}; not bundled")
    built = toolchain.build_image(target / PROTO, target / "build")
    if hashlib.sha256(built.read_bytes()).hexdigest() != release.sha256:
        raise ReleaseFilesError(f"proto/ at {commit[:12]} does not compile to {image}; not bundled")


def bundle(out: Path, number: int | None = None, repo: Path = REPO) -> Path:
    """Write the bundle of release ``number`` (None: the latest) into ``out``; return its path."""
    registry = Registry.load(repo / REGISTRY)
    release = _release(registry, number)
    name = f"ecom-contracts-r{release.number:04d}"
    with tempfile.TemporaryDirectory(prefix="bundle-") as scratch:
        sources = Path(scratch)
        _released_sources(repo, registry, release, sources)
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{name}.tar.gz"
        with tarfile.open(target, "w:gz") as archive:
            archive.add(registry.root / release.image, f"{name}/{release.image}")
            archive.add(sources / BUF_CONFIG, f"{name}/{BUF_CONFIG}")
            archive.add(sources / PROTO, f"{name}/{PROTO}")
            for template in sorted((repo / GENERATION_TEMPLATES).glob("buf.gen.*.yaml")):
                archive.add(template, f"{name}/{template.name}")
    return target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``python -m contracts bundle`` to ``parser``."""
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument(
        "--release", type=int, default=None, help="the release's number (default: the latest)"
    )
    parser.add_argument("--repo", type=Path, default=REPO, help="repository root")


def run(args: argparse.Namespace) -> int:
    """Write the bundle ``args`` ask for; return the exit status."""
    try:
        print(f"wrote {bundle(args.out, args.release, args.repo.resolve())}")
    except ReleaseFilesError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
