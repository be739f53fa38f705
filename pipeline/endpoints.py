"""Where the Google Cloud clients connect: Google's APIs, or local emulators named by variables.

Each API follows its ecosystem's convention, so the same variables point
this project's tools, the client libraries and Beam at the same emulators:

============================== ==================================================
``PUBSUB_EMULATOR_HOST``       Pub/Sub (``host:port``); read by the Pub/Sub library
``STORAGE_EMULATOR_HOST``      Cloud Storage (``http://host:port``); read by the
                               storage library, and by Beam's ``gs://`` file system
``BIGQUERY_EMULATOR_HOST``     BigQuery's REST API (``host:port``); BigQuery has no
                               standard variable, so this module reads it
``BIGQUERY_STORAGE_EMULATOR_HOST`` BigQuery's Storage Write API (gRPC, ``host:port``)
============================== ==================================================

Anonymous credentials are used only for an API whose emulator is named;
otherwise the clients take the environment's credentials as usual.
"""

from __future__ import annotations

import os
from typing import Any, Final

PUBSUB_EMULATOR_HOST: Final = "PUBSUB_EMULATOR_HOST"
STORAGE_EMULATOR_HOST: Final = "STORAGE_EMULATOR_HOST"
BIGQUERY_EMULATOR_HOST: Final = "BIGQUERY_EMULATOR_HOST"
BIGQUERY_STORAGE_EMULATOR_HOST: Final = "BIGQUERY_STORAGE_EMULATOR_HOST"
VARIABLES: Final = (
    PUBSUB_EMULATOR_HOST,
    STORAGE_EMULATOR_HOST,
    BIGQUERY_EMULATOR_HOST,
    BIGQUERY_STORAGE_EMULATOR_HOST,
)


class EndpointError(ValueError):
    """An emulator is named but the client cannot be made for it (the message says why)."""


def named_emulators() -> dict[str, str]:
    """Return the emulator variables set in this environment, by name."""
    return {name: os.environ[name] for name in VARIABLES if os.environ.get(name)}


def _http(host: str) -> str:
    return host if host.startswith(("http://", "https://")) else f"http://{host}"


def bigquery_client(project: str, location: str | None = None) -> Any:
    """Return a ``google.cloud.bigquery.Client`` for ``project`` (empty: the environment's).

    With ``BIGQUERY_EMULATOR_HOST`` set, the client talks to that emulator
    with anonymous credentials, and ``project`` (or ``GOOGLE_CLOUD_PROJECT``)
    must be given: looking a default project up would ask for credentials.
    """
    from google.cloud import bigquery

    host = os.environ.get(BIGQUERY_EMULATOR_HOST, "")
    if not host:
        return bigquery.Client(project=project or None, location=location)
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    project = project or os.environ.get("GOOGLE_CLOUD_PROJECT", "")
    if not project:
        raise EndpointError(
            f"{BIGQUERY_EMULATOR_HOST} is set: name the project (--bq_project, --project or "
            "GOOGLE_CLOUD_PROJECT)"
        )
    return bigquery.Client(
        project=project,
        location=location,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=_http(host)),
    )


def bigquery_write_client() -> Any:
    """Return a ``BigQueryWriteClient`` (Storage Write API), on the emulator when one is named."""
    from google.cloud import bigquery_storage_v1

    host = os.environ.get(BIGQUERY_STORAGE_EMULATOR_HOST, "")
    if not host:
        return bigquery_storage_v1.BigQueryWriteClient()
    import grpc
    from google.cloud.bigquery_storage_v1.services.big_query_write.transports import (
        BigQueryWriteGrpcTransport,
    )

    channel = grpc.insecure_channel(host.removeprefix("http://"))
    return bigquery_storage_v1.BigQueryWriteClient(
        transport=BigQueryWriteGrpcTransport(channel=channel)
    )


def storage_client(project: str) -> Any:
    """Return a ``google.cloud.storage.Client`` (the library itself honours the emulator)."""
    from google.cloud import storage  # type: ignore[attr-defined]

    if os.environ.get(STORAGE_EMULATOR_HOST):
        return storage.Client(project=project or "local")  # anonymous, by the library's rule
    return storage.Client(project=project or None)


def beam_storage_without_credentials() -> bool:
    """With ``STORAGE_EMULATOR_HOST`` set, tell Beam's ``gs://`` file system it needs none.

    Beam looks application default credentials up once per process, with
    retries (about 25 s when there are none), before it connects anonymously
    anyway. When the emulator is named, this records that lookup as done with
    no credentials (Beam's own cache), so Beam connects anonymously at once
    and the storage library sends it to the emulator. Returns whether it did.
    """
    if not os.environ.get(STORAGE_EMULATOR_HOST):
        return False
    from apache_beam.internal.gcp import auth

    cache = auth._Credentials
    with cache._credentials_lock:
        if not cache._credentials_init:
            cache._credentials = None
            cache._credentials_init = True
    return True
