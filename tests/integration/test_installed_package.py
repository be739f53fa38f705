"""The package as a Dataflow worker runs it: the built wheel in a fresh environment, no checkout.

The wheels are built from this checkout (ecom-ingest, the workers' wheel, and
the contracts it depends on, ecom-contracts), installed with their run-time dependencies
(plus the ``local`` extra for DuckDB) into a new virtual
environment outside the repository, and run from an empty folder. Every
child process carries an audit hook that fails on any file or folder access
under the repository, so a module that reads ``bq_schemas/``, ``sql/`` or
``migrations/`` from a checkout fails here instead of on a worker. The
workers' wheel holds the run-time packages only: neither the contract
toolchain (``contracts``) nor the operations commands (``ops``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

import duckdb
import pytest

from tests.integration.wheels import build_wheel

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"

GUARD = """\
import runpy, sys
root, target, *argv = sys.argv[1:]
def refuse_the_checkout(event, args):
    if event in {"open", "os.listdir", "os.scandir", "glob.glob"} and args:
        path = args[0]
        if isinstance(path, bytes):
            path = path.decode(errors="replace")
        if isinstance(path, str) and (path == root or path.startswith(root + "/")):
            raise RuntimeError(f"read from the checkout: {event} {path}")
sys.addaudithook(refuse_the_checkout)
sys.argv = [target, *argv]
if target.endswith(".py"):
    runpy.run_path(target, run_name="__main__")
else:
    runpy.run_module(target, run_name="__main__", alter_sys=True)
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the python of a fresh environment holding the built wheel and its dependencies."""
    work = tmp_path_factory.mktemp("installed")
    contracts = build_wheel(ROOT / "producer", work / "dist")
    wheel = build_wheel(ROOT, work / "dist")
    venv.EnvBuilder(with_pip=True).create(work / "env")
    python = work / "env" / "bin" / "python"
    installing = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         str(contracts), f"{wheel}[local]"],
        capture_output=True, text=True, cwd=work, check=False,
    )  # fmt: skip
    assert installing.returncode == 0, installing.stderr[-3000:]
    (work / "guard.py").write_text(GUARD)
    return python


def _run(python: Path, folder: Path, target: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run a module or script with ``python`` in ``folder``, refusing any access to the checkout."""
    return subprocess.run(
        [str(python), str(python.parents[2] / "guard.py"), str(ROOT), target, *argv],
        cwd=folder, capture_output=True, text=True, timeout=600, check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(folder)},
    )  # fmt: skip


def _empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_the_guard_refuses_a_read_from_the_checkout(installed: Path, tmp_path: Path):
    folder = _empty(tmp_path)
    (folder / "reads_checkout.py").write_text(f"open({str(ROOT / 'README.md')!r}).read()\n")
    completed = _run(installed, folder, "reads_checkout.py")
    assert completed.returncode != 0
    assert "read from the checkout" in completed.stderr


def test_the_package_is_the_installed_one(installed: Path, tmp_path: Path):
    folder = _empty(tmp_path)
    (folder / "where.py").write_text(
        "import ecom_contracts_pb, ecom_contracts, ecom_warehouse.artifacts, pipeline\n"
        "import pipeline.main\n"
        "print(pipeline.__file__, ecom_warehouse.artifacts.__file__, ecom_contracts.__file__)\n"
        "print(*ecom_contracts_pb.__path__)\n"
        "from importlib.util import find_spec\n"
        "print('toolchain or operations:', find_spec('contracts'), find_spec('ops'))\n"
        "from importlib import metadata\n"
        "for name in ('ecom-ingest', 'ecom-contracts'):\n"
        "    print(name, *sorted({f.parts[0] for f in metadata.files(name) or []}))\n"
    )
    completed = _run(installed, folder, "where.py")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert str(installed.parents[1]) in completed.stdout
    assert str(ROOT) not in completed.stdout
    tops = {line.split()[0]: set(line.split()[1:]) for line in completed.stdout.splitlines()[-2:]}
    # One copy of the classes: the contracts' distribution holds them, the pipeline's does not.
    assert {"ecom_contracts_pb", "ecom_contracts"} <= tops["ecom-contracts"]
    assert not {"ecom_contracts_pb", "ecom_contracts"} & tops["ecom-ingest"]
    # No top-level name a producer's own service may have (`ecom`, `buf`).
    assert not {"ecom", "buf"} & (tops["ecom-contracts"] | tops["ecom-ingest"])
    # The workers' wheel: the run-time packages, not the toolchain or the operations commands.
    packages = {top for top in tops["ecom-ingest"] if not top.endswith(".dist-info")}
    assert packages == {"pipeline", "ecom_warehouse", "ecom_warehouse_runtime", "ecom_ingest_pb"}
    assert "toolchain or operations: None None" in completed.stdout


def test_the_setup_file_packaging_ships_what_the_wheel_ships(tmp_path: Path):
    # Dataflow's --setup_file path: `python setup.py sdist` on the launching machine.
    subprocess.run(
        [sys.executable, "setup.py", "egg_info", "--egg-base", str(tmp_path),
         "sdist", "--dist-dir", str(tmp_path)],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    (sdist,) = tmp_path.glob("ecom_ingest-*.tar.gz")
    with tarfile.open(sdist) as archive:
        modules = {
            Path(*Path(name).parts[1:]) for name in archive.getnames() if name.endswith(".py")
        }
    tops = {module.parts[0] for module in modules if len(module.parts) > 1}
    assert tops == {"pipeline", "generated", "ecom_warehouse_runtime"}, tops
    assert Path("generated/ecom_warehouse/rows.py") in modules
    assert Path("generated/ecom_ingest_pb/deadletter/v1/dead_letter_pb2.py") in modules
    assert not {path for path in modules if path.parts[:2] == ("generated", "ecom_contracts_pb")}


def _keys(table: str) -> str:
    return "line_key" if table in {"fact_order_item", "fact_order"} else "event_id"


def test_replay_into_duckdb_from_the_installed_package(installed: Path, tmp_path: Path):
    folder = _empty(tmp_path)
    (tmp_path / "input.ndjson").write_bytes((GOLDEN / "input.ndjson").read_bytes())
    completed = _run(
        installed, folder, "pipeline.main",
        "--replay", str(tmp_path / "input.ndjson"), "--sink", "duckdb",
        "--duckdb_path", str(tmp_path / "warehouse.duckdb"),
        "--dead_letter_prefix", str(tmp_path / "dead_letters"),
    )  # fmt: skip
    assert completed.returncode == 1, completed.stderr[-4000:]  # the input has bad messages
    assert "deliveries dead-lettered" in completed.stderr
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as connection:
        for path in sorted((GOLDEN / "expected").glob("fact_*.ndjson")):
            table = path.stem
            expected = {json.loads(line)[_keys(table)] for line in path.read_text().splitlines()}
            query = f"SELECT {_keys(table)} FROM events.{table}_dedup"
            assert {row[0] for row in connection.execute(query).fetchall()} == expected, table
    expected_letters = (GOLDEN / "expected" / "dead_letters.ndjson").read_text().splitlines()
    letters = [
        line
        for path in (tmp_path / "dead_letters").glob("*.ndjson")
        for line in path.read_text().splitlines()
    ]
    assert len(letters) == len(expected_letters) > 0


CHECK_ROWS = """\
from pipeline.errors import SinkRejectedError
from pipeline.sinks.proto_rows import proto_row_format
rows = proto_row_format("fact_inventory")
row = {"event_id": "e-1", "event_date": "2025-12-01", "event_timestamp": "2025-12-01T10:00:00Z",
       "product_id": "p", "warehouse_id": "w", "quantity_change": 3, "reason": "restock"}
message = rows.message_class.FromString(rows.encode(row))
print("encoded", message.event_date, message.event_timestamp, len(rows.descriptor.field))
try:
    rows.encode({**row, "quantity_change": "twelve"})
except SinkRejectedError as refused:
    print("refused", refused)
"""


def test_storage_write_row_check_from_the_installed_package(installed: Path, tmp_path: Path):
    # The Storage Write rows' descriptor comes from the generated artifacts inside the package.
    folder = _empty(tmp_path)
    (folder / "check_rows.py").write_text(CHECK_ROWS)
    completed = _run(installed, folder, "check_rows.py")
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert "encoded 20423 1764583200000000 9" in completed.stdout, completed.stdout
    assert "refused not sent: quantity_change: not an integer" in completed.stdout, completed.stdout
