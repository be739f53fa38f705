"""The Pub/Sub emulator for the integration tests, and when its absence may skip them.

Some machines of this project's kind have no Google Cloud CLI, and nothing can
install it there: on those, the emulator tests skip, each with the reason, and
the session ends with one loud line counting them. Wherever ``gcloud`` is
installed, an emulator that cannot start (no emulator component, no Java, a
crash) fails the tests instead: a broken setup must not pass as a skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from ops.emulator import EmulatorUnavailableError, PubsubEmulator, find_emulator_jar

NO_CLI_SKIP = "Pub/Sub emulator tests skipped: the Google Cloud CLI (gcloud) is not installed"


def google_cloud_cli_present() -> bool:
    """Return whether this machine has the Google Cloud CLI (on PATH or by CLOUDSDK_ROOT)."""
    return shutil.which("gcloud") is not None or bool(os.environ.get("CLOUDSDK_ROOT"))


def require_emulator() -> None:
    """Skip where the Google Cloud CLI is absent; fail where it is but the emulator cannot run."""
    if not google_cloud_cli_present():
        pytest.skip(f"{NO_CLI_SKIP} on this machine")
    try:
        find_emulator_jar()
    except EmulatorUnavailableError as missing:
        pytest.fail(f"gcloud is installed but the Pub/Sub emulator cannot run: {missing}")


@pytest.fixture(scope="session")
def emulator() -> Iterator[PubsubEmulator]:
    require_emulator()
    try:
        running = PubsubEmulator()
        running.start()
    except EmulatorUnavailableError as failed:
        pytest.fail(f"gcloud is installed but the Pub/Sub emulator did not start: {failed}")
    try:
        yield running
    finally:
        running.stop()
