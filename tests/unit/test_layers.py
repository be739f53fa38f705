"""The layers `make lint` enforces (import-linter, pyproject.toml's [tool.importlinter]).

Each case adds one module that imports across a boundary to a copy of the
packages and runs ``lint-imports`` there: the lint must fail, naming the
contract the import breaks. The unchanged copy passes, so a failure is the
added import's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HAND_WRITTEN = ("contracts", "ops", "pipeline", "ecom_warehouse_runtime", "ecom_contracts")
GENERATED = ("ecom_warehouse", "ecom_contracts_pb", "ecom_ingest_pb")

UPWARD = "Nothing imports upward: ops | contracts > pipeline > ecom_warehouse > its run time"
FORBIDDEN_IMPORTS = [
    # (package, the import it must not make, the contract that refuses it)
    ("pipeline", "import contracts.errors", "The pipeline imports neither the contract toolchain"),
    ("pipeline", "import ops.infra", "The pipeline imports neither the contract toolchain"),
    ("ecom_warehouse", "import pipeline.model", "The generated warehouse package imports only"),
    ("ecom_warehouse", "import ecom_contracts", "The generated warehouse package imports only"),
    ("ecom_warehouse_runtime", "import ecom_warehouse.rows", UPWARD),
    ("ecom_warehouse_runtime", "import pipeline.errors", UPWARD),
    ("contracts", "import ops.infra.plan", UPWARD),
    ("ops", "import contracts.bigquery_schema", UPWARD),
    ("ecom_contracts", "import ecom_warehouse.artifacts", "The producers' package imports only"),
    ("ecom_contracts", "import pipeline.catalog", "The producers' package imports only"),
    ("ecom_contracts_pb", "import ecom_contracts", "The generated classes import nothing hand"),
    ("ecom_ingest_pb", "import pipeline.errors", "The generated classes import nothing hand"),
    # The producers' wheel does not ship the pipeline's classes.
    ("ecom_contracts_pb", "import ecom_ingest_pb.deadletter", "The producers' package imports"),
    ("ecom_contracts", "import ecom_ingest_pb.warehouse", "The producers' package imports only"),
]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Return a copy of the packages and the lint configuration, outside the checkout."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    skip = shutil.ignore_patterns("__pycache__")
    for package in HAND_WRITTEN:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=skip)
    for package in GENERATED:
        shutil.copytree(ROOT / "generated" / package, tmp_path / "generated" / package, ignore=skip)
    return tmp_path


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` on ``tree``'s packages (found first on its path, not the checkout's)."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=tree, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{tree / 'generated'}",
             "COLUMNS": "300", "NO_COLOR": "1"},
    )  # fmt: skip


def _package_dir(tree: Path, package: str) -> Path:
    return tree / "generated" / package if package in GENERATED else tree / package


def test_the_packages_as_they_are_keep_every_contract(tree: Path):
    linted = _lint(tree)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "7 kept, 0 broken" in linted.stdout


@pytest.mark.parametrize(("package", "statement", "contract"), FORBIDDEN_IMPORTS)
def test_an_import_across_a_boundary_fails_the_lint(
    tree: Path, package: str, statement: str, contract: str
):
    (_package_dir(tree, package) / "_reaches_across.py").write_text(f"{statement}\n")
    linted = _lint(tree)
    assert linted.returncode != 0, linted.stdout
    broken = [line for line in linted.stdout.splitlines() if line.endswith(" BROKEN")]
    assert any(line.startswith(contract) for line in broken), linted.stdout
    assert f"{package}._reaches_across" in linted.stdout
