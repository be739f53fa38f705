"""Fixtures of the contract tests: a committed scratch copy of the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.scratch import committed_copy, git


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed copy of proto/, buf.yaml, the generated outputs and the registry."""
    return committed_copy(tmp_path_factory.mktemp("repo"))


@pytest.fixture
def scratch(repo: Path, tmp_path: Path) -> Path:
    """A fresh clone of :func:`repo` for one test to change."""
    clone = tmp_path / "clone"
    git(repo, "clone", "-q", str(repo), str(clone))
    return clone
