"""The emulators for the integration tests, and when their absence may skip them.

Some machines of this project's kind have no Google Cloud CLI, and nothing can
install it there: on those, the Pub/Sub emulator tests skip, each with the
reason, and the session ends with one loud line counting them. Wherever
``gcloud`` is installed, an emulator that cannot start (no emulator component,
no Java, a crash) fails the tests instead: a broken setup must not pass as a
skip. The BigQuery emulator needs Python 3.13 in the same way: absent, its
tests skip, counted; present, the emulator must be installed (``make
emulators``, which ``make test`` runs) and must start. The Cloud Storage
emulator is part of the dev install and never skips.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.emulators import (
    BigQueryEmulator,
    EmulatorUnavailableError,
    PubsubEmulator,
    StorageEmulator,
    find_emulator_jar,
)
from ops.emulators import bigquery as bigquery_emulators

NO_CLI_SKIP = "Pub/Sub emulator tests skipped: the Google Cloud CLI (gcloud) is not installed"
NO_PYTHON_313_SKIP = "BigQuery emulator tests skipped: no Python 3.13 (local-bigquery needs it)"


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


def require_bigquery_emulator() -> None:
    """Skip where Python 3.13 is absent; fail where it is but the emulator is not installed."""
    try:
        bigquery_emulators.find_python()
    except EmulatorUnavailableError:
        pytest.skip(f"{NO_PYTHON_313_SKIP} on this machine")
    if not bigquery_emulators.installed():
        pytest.fail(
            "Python 3.13 is here but the BigQuery emulator is not installed: make emulators "
            "(make test runs it)"
        )


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigQueryEmulator]:
    """One local-bigquery for the session; tests keep apart by project (``bigquery_project``)."""
    require_bigquery_emulator()
    folder = tmp_path_factory.mktemp("bigquery-emulator")
    running = BigQueryEmulator(folder / "data", "ecom-test", log_path=folder / "emulator.log")
    try:
        running.start()
    except EmulatorUnavailableError as failed:
        pytest.fail(f"the BigQuery emulator did not start: {failed}")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def bigquery_project(bigquery_emulator: BigQueryEmulator) -> str:
    """A project of its own on the session's BigQuery emulator, for one test."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def storage_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StorageEmulator]:
    """One Cloud Storage emulator for the session; tests keep apart by bucket."""
    folder: Path = tmp_path_factory.mktemp("storage-emulator")
    running = StorageEmulator(folder / "data", log_path=folder / "emulator.log")
    try:
        running.start()
    except EmulatorUnavailableError as failed:
        pytest.fail(f"the Cloud Storage emulator did not start: {failed}")
    try:
        yield running
    finally:
        running.stop()
