"""The plan: every resource the pipeline needs, as the API requests that create it.

Pure functions of the settings and the generated artifacts; no API is called
here, so ``--dry-run`` prints exactly what would be sent and tests check it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import sqlglot
from sqlglot import expressions as exp

from contracts.pubsub_schema import schema_file_name
from pipeline.catalog import CONTRACTS, Contract
from pipeline.model import TABLES

ROOT: Final = Path(__file__).resolve().parents[2]
SERVICE_ACCOUNT_ID: Final = "ecom-ingest-pipeline"

REQUIRED_APIS: Final = (
    "dataflow.googleapis.com",
    "compute.googleapis.com",
    "pubsub.googleapis.com",
    "bigquery.googleapis.com",
    "storage.googleapis.com",
    "iam.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "datacatalog.googleapis.com",
)
"""APIs to enable first: ``gcloud services enable ...`` (the command checks none of them)."""

PROJECT_ROLES: Final = {
    "roles/dataflow.worker": "run Dataflow work items and report progress",
    "roles/dataflow.viewer": "read its own job's metadata",
    "roles/monitoring.metricWriter": "publish the pipeline's counters as metrics",
    "roles/logging.logWriter": "write worker logs",
}
"""Project-level roles of the job's service account, and why each is needed."""


@dataclass(frozen=True)
class Settings:
    """Where to deploy: the command's options."""

    project: str
    region: str
    dataset: str = "events"
    bucket: str = ""
    encoding: str = "BINARY"
    max_delivery_attempts: int = 10
    dead_letter_retention_days: int = 90
    temp_retention_days: int = 7

    @property
    def bucket_name(self) -> str:
        """The bucket for dead letters and Dataflow temp/staging files."""
        return self.bucket or f"{self.project}-ecom-ingest"

    @property
    def service_account(self) -> str:
        """E-mail of the job's service account."""
        return f"{SERVICE_ACCOUNT_ID}@{self.project}.iam.gserviceaccount.com"


@dataclass(frozen=True)
class Step:
    """One resource to ensure: what it is, and the request that creates it."""

    kind: str
    name: str
    request: dict[str, Any]
    why: str = ""
    depends_on: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        """One line for the plan printout."""
        return f"{self.kind:<22} {self.name}" + (f"  ({self.why})" if self.why else "")


def schema_definition(contract: Contract) -> str:
    """Return the committed Pub/Sub schema definition of ``contract``."""
    path = ROOT / "pubsub_schemas" / schema_file_name(contract.message.DESCRIPTOR)
    return path.read_text()


def schema_step(settings: Settings, contract: Contract) -> Step:
    """Create the PROTOCOL_BUFFER schema, or commit a new revision when its definition changed."""
    name = f"projects/{settings.project}/schemas/{contract.schema_id}"
    return Step(
        "pubsub.schema",
        name,
        {
            "parent": f"projects/{settings.project}",
            "schema_id": contract.schema_id,
            "contract": contract.name,
            "schema": {
                "name": name,
                "type_": "PROTOCOL_BUFFER",
                "definition": schema_definition(contract),
            },
        },
        why=f"the Pub/Sub form of {contract.name}; a changed definition becomes a new revision",
    )


def topic_step(settings: Settings, contract: Contract, dead_letter: bool = False) -> Step:
    """Return the event topic bound to its schema, or (``dead_letter``) its dead-letter topic."""
    topic = f"projects/{settings.project}/topics/{contract.topic_id}"
    if dead_letter:
        return Step(
            "pubsub.topic",
            f"{topic}-undeliverable",
            {"name": f"{topic}-undeliverable"},
            why="Pub/Sub's dead-letter topic for messages the pipeline never acknowledges",
        )
    return Step(
        "pubsub.topic",
        topic,
        {
            "name": topic,
            "schema_settings": {
                "schema": f"projects/{settings.project}/schemas/{contract.schema_id}",
                "encoding": settings.encoding,
                # Filled when applied: the first revision ever committed and the newest.
                "first_revision_id": "",
                "last_revision_id": "",
            },
        },
        why=f"producers publish {contract.name} here; Pub/Sub rejects non-conforming payloads",
        depends_on=(f"projects/{settings.project}/schemas/{contract.schema_id}",),
    )


def subscription_step(settings: Settings, contract: Contract) -> Step:
    """Return the pipeline's subscription, with Pub/Sub's dead-letter and retry policies."""
    topic = f"projects/{settings.project}/topics/{contract.topic_id}"
    name = f"projects/{settings.project}/subscriptions/{contract.subscription_id}"
    return Step(
        "pubsub.subscription",
        name,
        {
            "name": name,
            "topic": topic,
            "ack_deadline_seconds": 60,
            "message_retention_duration": {"seconds": 7 * 86400},
            "dead_letter_policy": {
                "dead_letter_topic": f"{topic}-undeliverable",
                "max_delivery_attempts": settings.max_delivery_attempts,
            },
            "retry_policy": {
                "minimum_backoff": {"seconds": 10},
                "maximum_backoff": {"seconds": 600},
            },
        },
        why="the pipeline reads here; undeliverable messages go to the -undeliverable topic",
        depends_on=(topic, f"{topic}-undeliverable"),
    )


def table_ddl(table: str, settings: Settings) -> str:
    """Return ``sql/<table>.sql`` with the deployment's project and dataset."""
    statement = sqlglot.parse_one((ROOT / "sql" / f"{table}.sql").read_text(), read="bigquery")
    target = statement.find(exp.Table)
    assert target is not None
    target.set("db", exp.to_identifier(settings.dataset))
    target.set("catalog", exp.to_identifier(settings.project))
    return str(statement.sql(dialect="bigquery", pretty=True))


def bigquery_steps(settings: Settings) -> list[Step]:
    """Return the dataset and the five fact tables (DDL from ``sql/``)."""
    dataset = f"{settings.project}.{settings.dataset}"
    steps = [
        Step(
            "bigquery.dataset",
            dataset,
            {"dataset_id": dataset, "location": settings.region},
            why="the warehouse",
        )
    ]
    steps += [
        Step(
            "bigquery.table",
            f"{dataset}.{table}",
            {"ddl": table_ddl(table, settings)},
            why="from sql/, generated from the warehouse contract",
            depends_on=(dataset,),
        )
        for table in TABLES
    ]
    return steps


def migration_steps(settings: Settings, folder: Path = ROOT / "migrations") -> list[Step]:
    """Return one step per ``migrations/NNNN.sql``, in the deployment's project and dataset.

    Every statement is idempotent, so applying a migration twice changes nothing.
    """
    dataset = f"{settings.project}.{settings.dataset}"
    return [
        Step(
            "bigquery.migration",
            f"{dataset}: migration {path.stem}",
            {"sql": path.read_text().replace("`events.", f"`{dataset}.")},
            why="bring live tables to the released contracts (generated by the gate)",
            depends_on=tuple(f"{dataset}.{table}" for table in TABLES),
        )
        for path in sorted(folder.glob("[0-9][0-9][0-9][0-9].sql"))
    ]


def bucket_step(settings: Settings) -> Step:
    """Return the bucket for dead letters and Dataflow's temp and staging files."""
    return Step(
        "storage.bucket",
        f"gs://{settings.bucket_name}",
        {
            "name": settings.bucket_name,
            "location": settings.region,
            "iam_configuration": {"uniform_bucket_level_access": {"enabled": True}},
            "public_access_prevention": "enforced",
            "lifecycle_rules": [
                {
                    "action": {"type": "Delete"},
                    "condition": {
                        "age": settings.temp_retention_days,
                        "matches_prefix": ["temp/", "staging/"],
                    },
                },
                {
                    "action": {"type": "Delete"},
                    "condition": {
                        "age": settings.dead_letter_retention_days,
                        "matches_prefix": ["dead_letters/"],
                    },
                },
            ],
        },
        why="dead_letters/, temp/ and staging/ of the job, with uniform access and lifecycle rules",
    )


def iam_steps(settings: Settings) -> list[Step]:
    """Return the job's service account and its least-privilege bindings, with reasons."""
    member = f"serviceAccount:{settings.service_account}"
    steps = [
        Step(
            "iam.service_account",
            settings.service_account,
            {
                "name": f"projects/{settings.project}",
                "account_id": SERVICE_ACCOUNT_ID,
                "service_account": {"display_name": "ecom-ingest Dataflow job"},
            },
            why="the identity the Dataflow workers run as",
        )
    ]
    for role, why in PROJECT_ROLES.items():
        steps.append(
            Step(
                "iam.project_binding",
                f"{role} -> {member}",
                {"resource": f"projects/{settings.project}", "role": role, "member": member},
                why=why,
                depends_on=(settings.service_account,),
            )
        )
    subscription_roles = {
        "roles/pubsub.subscriber": "pull and acknowledge this subscription only",
        "roles/pubsub.viewer": "Dataflow reads the subscription's metadata when the job starts",
    }
    for contract in CONTRACTS:
        subscription = f"projects/{settings.project}/subscriptions/{contract.subscription_id}"
        for role, why in subscription_roles.items():
            steps.append(
                Step(
                    "iam.subscription_binding",
                    f"{subscription}: {role} -> {member}",
                    {"resource": subscription, "role": role, "member": member},
                    why=why,
                    depends_on=(subscription, settings.service_account),
                )
            )
    steps.append(
        Step(
            "iam.dataset_binding",
            f"{settings.project}.{settings.dataset}: WRITER -> {member}",
            {
                "resource": f"{settings.project}.{settings.dataset}",
                "role": "WRITER",
                "member": member,
            },
            why="insert rows into this dataset's tables only (roles/bigquery.dataEditor on it)",
            depends_on=(f"{settings.project}.{settings.dataset}", settings.service_account),
        )
    )
    steps.append(
        Step(
            "iam.bucket_binding",
            f"gs://{settings.bucket_name}: roles/storage.objectAdmin -> {member}",
            {
                "resource": settings.bucket_name,
                "role": "roles/storage.objectAdmin",
                "member": member,
            },
            why="write dead letters and Dataflow temp/staging files in this bucket only",
            depends_on=(f"gs://{settings.bucket_name}", settings.service_account),
        )
    )
    return steps


def pubsub_service_agent_steps(settings: Settings, project_number: str) -> list[Step]:
    """Return the rights Pub/Sub's own service agent needs for dead-letter policies."""
    agent = f"serviceAccount:service-{project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"
    steps = []
    for contract in CONTRACTS:
        topic = f"projects/{settings.project}/topics/{contract.topic_id}-undeliverable"
        subscription = f"projects/{settings.project}/subscriptions/{contract.subscription_id}"
        steps.append(
            Step(
                "iam.topic_binding",
                f"{topic}: roles/pubsub.publisher -> Pub/Sub service agent",
                {"resource": topic, "role": "roles/pubsub.publisher", "member": agent},
                why="Pub/Sub forwards undeliverable messages to the dead-letter topic",
                depends_on=(topic,),
            )
        )
        steps.append(
            Step(
                "iam.subscription_binding",
                f"{subscription}: roles/pubsub.subscriber -> Pub/Sub service agent",
                {"resource": subscription, "role": "roles/pubsub.subscriber", "member": agent},
                why="Pub/Sub acknowledges the messages it forwards",
                depends_on=(subscription,),
            )
        )
    return steps


def build_plan(settings: Settings, project_number: str = "{PROJECT_NUMBER}") -> list[Step]:
    """Return every step, in an order where each step's dependencies come first."""
    steps: list[Step] = []
    for contract in CONTRACTS:
        steps.append(schema_step(settings, contract))
        steps.append(topic_step(settings, contract))
        steps.append(topic_step(settings, contract, dead_letter=True))
        steps.append(subscription_step(settings, contract))
    steps += bigquery_steps(settings)
    steps += migration_steps(settings)
    steps.append(bucket_step(settings))
    steps += iam_steps(settings)
    steps += pubsub_service_agent_steps(settings, project_number)
    return steps


def pipeline_arguments(settings: Settings) -> list[str]:
    """Return the pipeline options naming this deployment's subscriptions, dataset and bucket."""
    arguments = []
    for contract in CONTRACTS:
        subscription = f"projects/{settings.project}/subscriptions/{contract.subscription_id}"
        arguments += ["--subscription", f"{contract.name}={subscription}"]
    arguments += [
        "--sink", "bigquery",
        "--bq_project", settings.project,
        "--bq_dataset", settings.dataset,
        "--dead_letter_prefix", f"gs://{settings.bucket_name}/dead_letters",
    ]  # fmt: skip
    return arguments
