"""Unit tests reach no emulator: the variables the integration fixtures set are cleared.

The session's emulators (``tests/integration/conftest.py``) name themselves in
``os.environ`` for as long as they run; a unit test of the Google Cloud path
(``python -m ops.infra`` without emulators, a client's endpoint) must not
silently take the local one because an integration test ran first.
"""

from __future__ import annotations

import pytest

from pipeline.endpoints import VARIABLES


@pytest.fixture(autouse=True)
def no_emulator_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
