"""The deployment's settings and the unit of a plan, shared by the plan and the apply layer."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from google.cloud import bigquery, storage  # type: ignore[attr-defined]
from google.protobuf import json_format
from google.protobuf.message import Message

from pipeline.catalog import Contract

SERVICE_ACCOUNT_ID: Final = "ecom-ingest-pipeline"


@dataclass(frozen=True)
class Settings:
    """Where and how to deploy: the command's options."""

    project: str
    region: str
    dataset: str = "events"
    bucket: str = ""
    encoding: str = "BINARY"
    dead_letter_retention_days: int = 90
    temp_retention_days: int = 7
    job_name: str = "ecom-ingest"
    raw_landing: bool = True
    raw_dataset: str = ""
    """Dataset of the raw landing tables (default: DATASET_raw), apart from the warehouse."""
    raw_retention_days: int = 90
    """Partitions of the raw landing tables expire after this many days (0: never)."""
    pii_policy_tag: str = ""
    """A Data Catalog policy tag for PII columns; empty leaves policy tags alone."""
    keep_revisions: int = 0
    """Topics accept only the newest N schema revisions (0: every one from the first)."""
    delete_unaccepted_revisions: bool = False
    """Delete schema revisions no topic of the project accepts; otherwise they are kept and
    reported, since a topic of another project may use the schema."""
    repository: str = "ecom-ingest"
    """Artifact Registry Docker repository of the worker image."""
    project_number: str = "{PROJECT_NUMBER}"
    """For Pub/Sub's service agent, which writes the raw landing tables."""
    notification_channels: tuple[str, ...] = ()
    """Cloud Monitoring notification channels the alerts page (full resource names)."""
    build_service_account: str = ""
    """E-mail of the account Cloud Build runs ``./run.sh image`` as (default: Compute Engine's)."""

    @property
    def bucket_name(self) -> str:
        """The bucket for dead letters and Dataflow temp/staging files."""
        return self.bucket or f"{self.project}-ecom-ingest"

    @property
    def raw_dataset_name(self) -> str:
        """The dataset of the raw landing tables."""
        return self.raw_dataset or f"{self.dataset}_raw"

    @property
    def service_account(self) -> str:
        """E-mail of the job's service account."""
        return f"{SERVICE_ACCOUNT_ID}@{self.project}.iam.gserviceaccount.com"

    @property
    def pubsub_service_agent(self) -> str:
        """E-mail of Pub/Sub's service agent, which BigQuery subscriptions write as."""
        return f"service-{self.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"

    @property
    def build_account(self) -> str:
        """E-mail of the account builds run as: the given one, else Compute Engine's default.

        Projects whose Cloud Build API was enabled after the 2024 change run
        directly submitted builds as the Compute Engine default service account
        (``PROJECT_NUMBER-compute@developer.gserviceaccount.com``), which holds
        no Cloud Build role of its own.
        """
        return (
            self.build_service_account
            or f"{self.project_number}-compute@developer.gserviceaccount.com"
        )

    @property
    def build_source_bucket(self) -> str:
        """The bucket ``gcloud builds submit`` uploads the build's source to (run.sh names it)."""
        return f"{self.project}_cloudbuild"

    @property
    def repository_name(self) -> str:
        """Full name of the Artifact Registry repository."""
        return f"projects/{self.project}/locations/{self.region}/repositories/{self.repository}"


@dataclass(frozen=True)
class Step:
    """One resource to ensure: what it is, and the client library request that makes it."""

    kind: str
    name: str
    request: Any
    why: str = ""
    depends_on: tuple[str, ...] = ()
    context: Mapping[str, Any] = field(default_factory=dict)
    """What the apply layer needs beside the request (contract, table, resource...)."""

    def describe(self) -> str:
        """One line for the plan printout."""
        return f"{self.kind:<26} {self.name}" + (f"  ({self.why})" if self.why else "")


def request_json(request: Any) -> Any:
    """Return ``request`` as the JSON its client library sends (for ``--dry-run --json``)."""
    if isinstance(request, str | list | dict):
        return request
    if isinstance(request, Message):
        return json_format.MessageToDict(request)
    if hasattr(type(request), "to_json") and hasattr(request, "_pb"):  # proto-plus
        return json.loads(type(request).to_json(request))
    if isinstance(request, bigquery.Table | bigquery.Dataset | bigquery.AccessEntry):
        return request.to_api_repr()
    if isinstance(request, storage.Bucket):
        return {"name": request.name, **copy.deepcopy(request._properties)}
    raise TypeError(f"no JSON form for {type(request).__name__}")


def pipeline_subscription_id(contract: Contract) -> str:
    """Id of the subscription the pipeline reads ``contract``'s topic from: ``<topic>-pipeline``."""
    return f"{contract.topic_id}-pipeline"


def raw_subscription_id(contract: Contract) -> str:
    """Id of the BigQuery subscription that lands ``contract``'s topic raw."""
    return f"{contract.topic_id}-raw"
