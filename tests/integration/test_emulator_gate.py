"""Where the emulator tests may skip: only on machines without the Google Cloud CLI.

Each case runs one emulator test in a child pytest whose PATH is a scratch
folder: empty (no gcloud, as on the machines without the CLI), or holding a
``gcloud`` whose SDK has no emulator and no Java beside it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = (
    "tests/integration/test_publish_and_replay.py"
    "::test_ordering_keys_keep_each_orders_events_in_order"
)


def _pytest(path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"CLOUDSDK_ROOT", "CI"}}
    env["PATH"] = str(path)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", TARGET],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip


def test_without_the_cli_emulator_tests_skip_and_say_so(tmp_path: Path):
    completed = _pytest(tmp_path)
    assert completed.returncode == 0, completed.stdout
    assert "1 skipped" in completed.stdout
    assert "WARNING: 1 Pub/Sub emulator tests skipped: the Google Cloud CLI" in completed.stdout


def test_with_the_cli_but_no_emulator_they_fail(tmp_path: Path):
    gcloud = tmp_path / "gcloud"
    gcloud.write_text(f"#!/bin/sh\necho {tmp_path / 'sdk'}\n")
    gcloud.chmod(0o755)
    completed = _pytest(tmp_path)
    assert completed.returncode == 1, completed.stdout
    assert "1 error" in completed.stdout or "1 failed" in completed.stdout
    assert "gcloud is installed but the Pub/Sub emulator cannot run" in completed.stdout
    assert "WARNING" not in completed.stdout
