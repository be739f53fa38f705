"""What the working tree's contracts are judged against: the baselines of buf and the gate.

A baseline is an earlier state of ``proto/``, compiled: every registry
release (its recorded image, with the model recorded beside it), ``proto/``
as of a git ref, or a folder holding ``proto/``. Before the first release,
the last commit with a ``proto/`` folder is the baseline of buf alone (no
table is live yet). A release's own sources are ``proto/`` and ``buf.yaml``
at the commit that recorded its image (:func:`release_commit`,
:func:`sources_at`): the release bundle ships them.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from contracts import toolchain
from contracts.descriptors import ContractImage
from contracts.layout import PROTO
from contracts.registry import Registry, Release

REGISTRY_BASELINES: Final = "registry"
"""The ``--against`` of every release (the default)."""
GIT_PREFIX: Final = "git:"
"""The ``--against`` prefix of a git ref: ``git:main``."""


@dataclass(frozen=True)
class Baseline:
    """An earlier state of the contracts that the working tree is judged against."""

    label: str
    """What it is, for messages: ``registry release 1``, ``git:main``."""
    path: Path
    """Its descriptor image (what buf reads)."""
    image: ContractImage
    live: bool = True
    """Its tables and Pub/Sub schemas are (or may be) live: the gate judges against it too.
    False for the last commit before the first release, which only buf judges."""


def compile_proto(proto_root: Path, work: Path) -> tuple[Path, ContractImage]:
    """Compile ``proto_root`` into an image under ``work``; return its path and the image."""
    path = toolchain.build_image(proto_root, work)
    return path, ContractImage.load(path, toolchain.proto_sources(proto_root))


def sources_at(repo: Path, ref: str, paths: Sequence[str], target: Path) -> bool:
    """Write ``paths`` as of git ``ref`` of ``repo`` into ``target``.

    False (and nothing written) when ``ref`` is no commit or lacks one of them.
    """
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, *paths],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        return False
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return True


def at_ref(repo: Path, ref: str, work: Path, *, label: str, live: bool = True) -> Baseline | None:
    """Return ``proto/`` as of git ``ref``, compiled; None when the ref has no ``proto/``."""
    checkout = work / "baseline"
    if not sources_at(repo, ref, [PROTO], checkout):
        return None
    path, image = compile_proto(checkout / PROTO, checkout / "build")
    return Baseline(label, path, image, live)


def in_folder(folder: Path, work: Path, *, label: str) -> Baseline | None:
    """Return ``folder/proto`` compiled; None when ``folder`` holds no ``proto/``."""
    if not (folder / PROTO).is_dir():
        return None
    path, image = compile_proto(folder / PROTO, work / "against")
    return Baseline(label, path, image)


def of_registry(repo: Path, registry: Registry, work: Path) -> list[Baseline]:
    """Return what the working tree is judged against by default: every release, oldest first.

    Before the first release, the last commit with a ``proto/`` folder, for buf
    only (no table is live yet); none when there is no such commit either.
    """
    if registry.releases:
        return [
            Baseline(
                f"registry release {release.number}",
                registry.root / release.image,
                registry.image(release),
            )
            for release in registry.releases
        ]
    head = at_ref(repo, "HEAD", work, label="HEAD (no release in registry/ yet)", live=False)
    return [] if head is None else [head]


def against(spec: str, repo: Path, registry: Registry, work: Path) -> list[Baseline] | None:
    """Return the baselines ``spec`` names: ``registry``, ``git:REF`` or a folder with proto/.

    None when the ref or the folder holds no ``proto/``.
    """
    if spec == REGISTRY_BASELINES:
        return of_registry(repo, registry, work)
    if spec.startswith(GIT_PREFIX):
        found = at_ref(repo, spec.removeprefix(GIT_PREFIX), work, label=spec)
    else:
        found = in_folder(Path(spec), work, label=spec)
    return None if found is None else [found]


def release_commit(repo: Path, registry: Registry, release: Release) -> str | None:
    """Return the commit that recorded ``release``'s image (its proto/ is the release's).

    None when the image is not committed.
    """
    image = (registry.root / release.image).relative_to(repo).as_posix()
    found = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", image],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    commits = found.stdout.split()
    return commits[-1] if found.returncode == 0 and commits else None
