"""The operators' commands against the local services, through the environment's variables.

``python -m ops.deadletters`` summarizes dead letters under a ``gs://``
prefix of the Cloud Storage emulator (named by ``STORAGE_EMULATOR_HOST``,
nothing else configured), as an operator would on Google Cloud.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from ops.emulators import StorageEmulator
from pipeline.endpoints import storage_client

ROOT = Path(__file__).resolve().parents[2]


def test_deadletters_reads_a_gs_prefix_of_the_storage_emulator(
    storage_emulator: StorageEmulator, tmp_path: Path
):
    bucket = f"dead-letters-{uuid.uuid4().hex[:8]}"
    client = storage_client("ecom-test")
    client.create_bucket(bucket)
    golden = ROOT / "tests/golden/expected/dead_letters.ndjson"
    client.bucket(bucket).blob("dead_letters/dead-letters-1.ndjson").upload_from_filename(golden)
    local = tmp_path / "dead_letters"
    local.mkdir()
    shutil.copy(golden, local / "dead-letters-1.ndjson")

    def summary(source: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ops.deadletters", "--source", source, "--json"],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
            env=dict(os.environ),
        )  # fmt: skip

    remote = summary(f"gs://{bucket}/dead_letters")
    assert remote.returncode == 0, remote.stderr[-2000:]
    assert remote.stdout == summary(str(local)).stdout  # the same records, the same summary
    assert remote.stdout.count('"reason"') > 0
