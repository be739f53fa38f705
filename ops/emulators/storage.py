"""Cloud Storage on loopback: ``gcp-storage-emulator`` (PyPI, pure Python, in the dev install).

It answers the JSON API the storage library and Beam's GCS file system use,
batched rewrites and deletes included (Beam renames a dead-letter file into
place that way). ``STORAGE_EMULATOR_HOST`` names it; the storage library
then connects anonymously on its own. It keeps its objects in a folder, so a
restart (an outage drill) finds them again.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path

from ops.emulators.process import EmulatorProcess, EmulatorUnavailableError, free_port

VARIABLE = "STORAGE_EMULATOR_HOST"


class StorageEmulator(EmulatorProcess):
    """A running Cloud Storage emulator keeping its objects under ``data_dir``."""

    name = "Cloud Storage"

    def __init__(
        self, data_dir: Path, port: int | None = None, log_path: Path | None = None
    ) -> None:
        super().__init__(log_path)
        self.data_dir = data_dir.resolve()  # the emulator takes absolute paths only
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """``python -m gcp_storage_emulator`` of this interpreter, on the data folder."""
        if importlib.util.find_spec("gcp_storage_emulator") is None:
            raise EmulatorUnavailableError(
                "gcp-storage-emulator is not installed (it is in the dev install: make venv)"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return [
            sys.executable, "-m", "gcp_storage_emulator", "--data-dir", str(self.data_dir),
            "start", "--host", "127.0.0.1", "--port", str(self.port), "--quiet",
        ]  # fmt: skip

    def ports(self) -> list[int]:
        """Return the one HTTP port."""
        return [self.port]

    def environment(self) -> Mapping[str, str]:
        """``STORAGE_EMULATOR_HOST`` (with its scheme, as the storage library expects)."""
        return {VARIABLE: self.endpoint}
