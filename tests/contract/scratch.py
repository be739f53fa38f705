"""A scratch copy of the repository for running ``make proto`` and the gate as a user does."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = ("generated", "bq_schemas", "sql", "pubsub_schemas", "docs")
RECORDS = ("registry",)


def git(repo: Path, *args: str) -> None:
    """Run git in ``repo`` with a throwaway identity; fail on error."""
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def committed_copy(target: Path) -> Path:
    """Copy proto/, buf.yaml, the generated outputs and the registry into a new git repo."""
    shutil.copytree(ROOT / "proto", target / "proto")
    shutil.copy(ROOT / "buf.yaml", target / "buf.yaml")
    for output in (*OUTPUTS, *RECORDS):
        shutil.copytree(
            ROOT / output, target / output, ignore=shutil.ignore_patterns("__pycache__")
        )
    git(target, "init", "-q")
    git(target, "add", "-A")
    git(target, "commit", "-qm", "baseline")
    return target


def run_contracts(command: str, repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m contracts command --repo repo *args`` with this checkout's code."""
    return subprocess.run(
        [sys.executable, "-m", "contracts", command, "--repo", str(repo), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must be there) by ``new`` in ``path``."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))
