"""An emulator per test session: required in CI, skipped with the reason elsewhere."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ops.emulator import EmulatorUnavailableError, PubsubEmulator, find_emulator_jar


def require_emulator() -> None:
    """Fail in CI, skip elsewhere, when the Pub/Sub emulator cannot run here."""
    try:
        find_emulator_jar()
    except EmulatorUnavailableError as missing:
        if os.environ.get("CI"):
            pytest.fail(f"the Pub/Sub emulator is required in CI: {missing}")
        pytest.skip(f"Pub/Sub emulator not available: {missing}")


@pytest.fixture(scope="session")
def emulator() -> Iterator[PubsubEmulator]:
    require_emulator()
    with PubsubEmulator() as running:
        yield running
