"""Clients go to an emulator, anonymously, only when its variable names it."""

from __future__ import annotations

from typing import Any

import google.auth
import pytest
from google.auth.credentials import AnonymousCredentials, Credentials

from pipeline import endpoints


class _Default(Credentials):
    """What the environment's credentials would be (no lookup made)."""

    def refresh(self, request: Any) -> None:
        raise AssertionError("not called")


@pytest.fixture
def no_emulators(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in endpoints.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(google.auth, "default", lambda *a, **k: (_Default(), "demo"))


def test_bigquery_takes_the_environments_credentials_without_an_emulator(no_emulators: None):
    client = endpoints.bigquery_client("demo")
    assert isinstance(client._credentials, _Default)
    assert "googleapis.com" in client._connection.API_BASE_URL


def test_bigquery_goes_anonymously_to_the_named_emulator(
    no_emulators: None, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(endpoints.BIGQUERY_EMULATOR_HOST, "127.0.0.1:9050")
    client = endpoints.bigquery_client("demo", location="EU")
    assert isinstance(client._credentials, AnonymousCredentials)
    assert client._connection.API_BASE_URL == "http://127.0.0.1:9050"
    assert client.location == "EU"


def test_an_emulator_without_a_project_is_a_clear_error(
    no_emulators: None, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(endpoints.BIGQUERY_EMULATOR_HOST, "127.0.0.1:9050")
    with pytest.raises(endpoints.EndpointError, match="name the project"):
        endpoints.bigquery_client("")


def test_storage_write_goes_to_the_named_emulator_over_plain_grpc(
    no_emulators: None, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(endpoints.BIGQUERY_STORAGE_EMULATOR_HOST, "127.0.0.1:9060")
    client = endpoints.bigquery_write_client()
    assert client._transport._host.startswith("bigquerystorage.googleapis.com")  # not dialled
    assert type(client._transport.grpc_channel).__name__ == "Channel"  # an insecure channel


def test_storage_is_anonymous_only_with_the_emulator(
    no_emulators: None, monkeypatch: pytest.MonkeyPatch
):
    assert isinstance(endpoints.storage_client("demo")._credentials, _Default)
    monkeypatch.setenv(endpoints.STORAGE_EMULATOR_HOST, "http://127.0.0.1:9023")
    client = endpoints.storage_client("demo")
    assert isinstance(client._credentials, AnonymousCredentials)
    assert client._connection.API_BASE_URL == "http://127.0.0.1:9023"
    assert not endpoints.named_emulators().keys() - {endpoints.STORAGE_EMULATOR_HOST}
