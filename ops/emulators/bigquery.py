"""BigQuery on loopback: ``local-bigquery`` (PyPI), its REST and Storage Write APIs on DuckDB.

It runs GoogleSQL (the generated DDL with partitioning and clustering, the
``_dedup`` views, the seed's queries unchanged), ``insertAll`` with BigQuery's
per-row errors and ``AppendRows`` on a table's ``_default`` stream, so the
official clients work against it with anonymous credentials. It needs Python
3.13, which the project's 3.11 environment is not: :func:`install` puts it,
pinned (``local-bigquery.txt``), into ``.emulators/local-bigquery/`` for a
3.13 interpreter found on the machine, with the DuckDB extensions it would
otherwise download copied into a home folder private to the emulator.

It does not enforce insert-id length, request sizes, IAM or policy tags, and
``tables.patch`` of a field added inside a RECORD answers success but drops
the field: those stay client-boundary tests.

``BIGQUERY_EMULATOR_HOST`` (REST) and ``BIGQUERY_STORAGE_EMULATOR_HOST``
(gRPC) name it while it runs; see :mod:`pipeline.endpoints`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from ops.emulators.process import EmulatorProcess, EmulatorUnavailableError, free_port, port_open
from pipeline.endpoints import BIGQUERY_EMULATOR_HOST, BIGQUERY_STORAGE_EMULATOR_HOST

REQUIREMENTS: Final = Path(__file__).with_name("local-bigquery.txt")
ROOT: Final = Path(__file__).resolve().parents[2]
PYTHON_VARIABLE: Final = "BIGQUERY_EMULATOR_PYTHON"
"""An explicit Python 3.13 interpreter for the emulator (default: found on the machine)."""
DIR_VARIABLE: Final = "ECOM_EMULATORS_DIR"
"""Where emulators are installed (default: ``.emulators/`` of the checkout)."""
DUCKDB_VERSION: Final = "v1.5.5"
_PLATFORMS: Final = {
    "x86_64": ("linux_amd64", "x86_64"),
    "aarch64": ("linux_arm64", "aarch64"),
}


def install_dir() -> Path:
    """Return the folder holding the installed BigQuery emulator."""
    base = Path(os.environ.get(DIR_VARIABLE) or ROOT / ".emulators")
    return base / "local-bigquery"


def _python_version(interpreter: str) -> tuple[int, int] | None:
    """Return the interpreter's (major, minor), or None when it does not run."""
    with contextlib.suppress(OSError, subprocess.SubprocessError, ValueError):
        out = subprocess.run(
            [interpreter, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.split()
        return int(out[0]), int(out[1])
    return None


def find_python() -> str:
    """Return a Python 3.13 interpreter, or raise EmulatorUnavailableError.

    Looked for in order: ``BIGQUERY_EMULATOR_PYTHON``; ``python3.13`` and
    ``python3`` on PATH (a pyenv shim of a version not selected refuses to
    run, so each is tried); pyenv's installed 3.13 by path.
    """
    explicit = os.environ.get(PYTHON_VARIABLE, "")
    if explicit:
        if _python_version(explicit) != (3, 13):
            raise EmulatorUnavailableError(f"{PYTHON_VARIABLE}={explicit} is not a Python 3.13")
        return explicit
    candidates = [shutil.which("python3.13"), shutil.which("python3")]
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates += sorted(
        (str(p) for p in Path(pyenv_root).glob("versions/3.13*/bin/python3.13")), reverse=True
    )
    for candidate in filter(None, candidates):
        if _python_version(candidate) == (3, 13):
            return candidate
    raise EmulatorUnavailableError(
        "no Python 3.13 on this machine (local-bigquery needs it; set "
        f"{PYTHON_VARIABLE}=/path/to/python3.13)"
    )


def _requirements_digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]


def installed() -> bool:
    """Return whether the pinned emulator is installed (the stamp matches the pins)."""
    stamp = install_dir() / "installed"
    return stamp.exists() and stamp.read_text().strip() == _requirements_digest()


def install(say: Callable[[str], None] = print) -> Path:
    """Install the pinned emulator for Python 3.13 (once per pin set); return its folder.

    pip of this (3.11) environment installs the 3.13 wheels into a plain folder
    (``--target``): the 3.13 interpreter needs neither ``venv`` nor its own
    pip, which a system Python may lack. Raises EmulatorUnavailableError when
    there is no Python 3.13 or the install fails.
    """
    python = find_python()
    folder = install_dir()
    if installed():
        return folder
    machine = platform.machine()
    if machine not in _PLATFORMS:
        raise EmulatorUnavailableError(f"no pinned BigQuery emulator for {machine}")
    duckdb_platform, wheel_arch = _PLATFORMS[machine]
    say(f"installing the BigQuery emulator (local-bigquery, for {python}) into {folder}")
    shutil.rmtree(folder, ignore_errors=True)
    site = folder / "site"
    tags = [f"manylinux_2_{n}_{wheel_arch}" for n in (28, 27, 17)]
    tags += [f"manylinux2014_{wheel_arch}", f"linux_{wheel_arch}"]
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--ignore-requires-python", "--only-binary=:all:", "--target", str(site),
        "--python-version", "3.13", "--implementation", "cp", "--abi", "cp313",
        *(arg for tag in tags for arg in ("--platform", tag)),
        "-r", str(REQUIREMENTS),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "is ignored" not in line]
        raise EmulatorUnavailableError(
            "installing local-bigquery failed: " + " | ".join(errors[-3:])
        )
    extensions = folder / "home" / ".duckdb" / "extensions" / DUCKDB_VERSION / duckdb_platform
    extensions.mkdir(parents=True)
    for built in site.glob(f"duckdb_extension_*/extensions/{DUCKDB_VERSION}/*.duckdb_extension"):
        shutil.copy2(built, extensions / built.name)
    (folder / "python").write_text(python + "\n")
    (folder / "installed").write_text(_requirements_digest() + "\n")
    return folder


class BigQueryEmulator(EmulatorProcess):
    """A running local-bigquery keeping its tables under ``data_dir`` (DuckLake files)."""

    name = "BigQuery"

    def __init__(
        self,
        data_dir: Path,
        project: str,
        rest_port: int | None = None,
        grpc_port: int | None = None,
        log_path: Path | None = None,
    ) -> None:
        super().__init__(log_path)
        self.data_dir = data_dir.resolve()
        self.project = project
        self.rest_port = rest_port or free_port()
        self.grpc_port = grpc_port or free_port()
        self.rest_host = f"127.0.0.1:{self.rest_port}"
        self.grpc_host = f"127.0.0.1:{self.grpc_port}"

    def command(self) -> list[str]:
        """Return the installed emulator's ``serve`` on the data folder (Python 3.13)."""
        if not installed():
            raise EmulatorUnavailableError(
                "the BigQuery emulator is not installed: make emulators "
                "(python -m ops.emulators install; it needs Python 3.13)"
            )
        python = (install_dir() / "python").read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return [
            python, "-c", "import sys; from local_bigquery.cli import main; main(sys.argv[1:])",
            "serve", "--host", "127.0.0.1", "--port", str(self.rest_port),
            "--grpc-port", str(self.grpc_port), "--project", self.project,
            "--data-dir", str(self.data_dir),
        ]  # fmt: skip

    def child_environment(self) -> Mapping[str, str]:
        """Its own HOME (the DuckDB extensions) and the installed folder on its path only."""
        folder = install_dir()
        return {
            "HOME": str(folder / "home"),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(folder / "site"),
            "PYTHONNOUSERSITE": "1",
        }

    def ports(self) -> list[int]:
        """REST and gRPC (Storage Read and Write)."""
        return [self.rest_port, self.grpc_port]

    def ready(self) -> bool:
        """Return whether the REST API lists datasets and the gRPC port accepts connections."""
        if not port_open(self.grpc_port):
            return False
        url = f"http://{self.rest_host}/bigquery/v2/projects/{self.project}/datasets"
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
        return False

    def environment(self) -> Mapping[str, str]:
        """Return the two variables :mod:`pipeline.endpoints` reads."""
        return {
            BIGQUERY_EMULATOR_HOST: self.rest_host,
            BIGQUERY_STORAGE_EMULATOR_HOST: self.grpc_host,
        }
