"""Fixtures of the contract tests: a scratch copy of the repository, the compiled contracts."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts import toolchain
from contracts.descriptors import ContractImage
from tests.contract.scratch import ROOT, committed_copy, git


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


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> ContractImage:
    """The compiled contracts of this checkout's ``proto/``."""
    path = toolchain.build_image(ROOT / "proto", tmp_path_factory.mktemp("image"))
    return ContractImage.load(path, toolchain.proto_sources(ROOT / "proto"))
