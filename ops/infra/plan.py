"""The plan: every resource the pipeline needs, as the client libraries' own request objects.

Pure functions of the settings and the generated artifacts (``ecom_warehouse.artifacts``,
which ships inside the package); no API is called here, so ``--dry-run``
prints exactly what would be sent and tests check the very objects the apply
layer hands to the client libraries: ``pubsub.Subscription``,
``bigquery.Table``, ``storage.Bucket`` with its lifecycle rules, IAM
``Binding``s, Monitoring's ``AlertPolicy``.

Order matters and each step's dependencies come first: the service account
early (new accounts take a while to be visible to IAM), BigQuery before the
topics (a column exists before producers may send its field), the Pub/Sub
service agent's rights on the raw tables before the subscriptions that write
them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

from google.cloud import bigquery, storage  # type: ignore[attr-defined]
from google.iam.v1 import policy_pb2
from google.protobuf import duration_pb2
from google.pubsub_v1 import types as pubsub

from ecom_warehouse.artifacts import (
    MIGRATIONS,
    PII_POLICY_TAG,
    PUBSUB_SCHEMAS,
    RAW_TABLES,
    WAREHOUSE_TABLES,
)
from ops.infra.alerts import monitoring_steps
from ops.infra.settings import (
    SERVICE_ACCOUNT_ID,
    Settings,
    Step,
    pipeline_subscription_id,
    raw_subscription_id,
)
from ops.infra.table_patch import with_policy_tag
from pipeline.catalog import CONTRACTS, Contract
from pipeline.model import TABLES

REQUIRED_APIS: Final = (
    "dataflow.googleapis.com",
    "compute.googleapis.com",
    "pubsub.googleapis.com",
    "bigquery.googleapis.com",
    "storage.googleapis.com",
    "iam.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "datacatalog.googleapis.com",
    "monitoring.googleapis.com",
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
)
"""APIs to enable first: ``gcloud services enable ...`` (the command checks none of them)."""

PROJECT_ROLES: Final = {
    "roles/dataflow.worker": "run Dataflow work items and report progress",
    "roles/dataflow.viewer": "read its own job's metadata",
    "roles/monitoring.metricWriter": "publish the pipeline's counters as metrics",
    "roles/logging.logWriter": "write worker logs",
}
"""Project-level roles of the job's service account, and why each is needed."""

BUILD_SOURCE_PREFIX: Final = "source/"
"""Where run.sh uploads the image's build context in the build source bucket."""
BUILD_ROLES: Final = {
    "project": ("roles/logging.logWriter", "write the build's logs to Cloud Logging"),
    "bucket": ("roles/storage.objectViewer", "read the uploaded build context, this bucket only"),
    "repository": ("roles/artifactregistry.writer", "push the worker image, this repository only"),
}
"""What the account Cloud Build runs as needs for ``./run.sh image``, and where."""

SUBSCRIPTION_ROLES: Final = {
    "roles/pubsub.subscriber": "pull and acknowledge this subscription only",
    "roles/pubsub.viewer": "Dataflow reads the subscription's metadata when the job starts",
}

SCHEMA_ROLES: Final = {
    "roles/pubsub.viewer": "read a schema revision's definition, which names the registry "
    "revision of a message that carries no ecom_revision (this schema only)",
}

ACK_DEADLINE_SECONDS: Final = 60
RETENTION: Final = duration_pb2.Duration(seconds=7 * 86400)
"""Unacknowledged messages are kept 7 days (Pub/Sub's maximum): the time to fix a stopped job."""
MAX_SCHEMA_REVISIONS: Final = 20
"""Pub/Sub keeps at most 20 revisions of a schema; committing a 21st fails."""


def _topic(settings: Settings, contract: Contract) -> str:
    return f"projects/{settings.project}/topics/{contract.topic_id}"


def _subscription(settings: Settings, subscription_id: str) -> str:
    return f"projects/{settings.project}/subscriptions/{subscription_id}"


def _raw_table(contract: Contract) -> str:
    return next(name for name, raw in RAW_TABLES.items() if raw["event"] == contract.name)


def schema_step(settings: Settings, contract: Contract) -> Step:
    """Create the PROTOCOL_BUFFER schema, or commit a revision when its meaning changed."""
    name = f"projects/{settings.project}/schemas/{contract.schema_id}"
    definition = PUBSUB_SCHEMAS[contract.schema_id.replace("-", "_") + ".proto"]
    keep = (
        f"topics accept the newest {settings.keep_revisions}"
        if settings.keep_revisions
        else "topics keep accepting every revision from their first"
    )
    clean_up = (
        "revisions no topic of the project accepts are deleted"
        if settings.delete_unaccepted_revisions
        else "revisions no topic of the project accepts are kept (a topic of another project "
        "may use the schema)"
    )
    return Step(
        "pubsub.schema",
        name,
        pubsub.Schema(name=name, type_=pubsub.Schema.Type.PROTOCOL_BUFFER, definition=definition),
        why=f"the Pub/Sub form of {contract.name}; a revision is committed only when the "
        f"definition's meaning changes (not its comments); {keep}; {clean_up}; fails before "
        f"Pub/Sub's {MAX_SCHEMA_REVISIONS}-revision limit",
        context={
            "schema_id": contract.schema_id,
            "contract": contract.name,
            "topic": _topic(settings, contract),
            "keep_revisions": settings.keep_revisions,
            "delete_unaccepted_revisions": settings.delete_unaccepted_revisions,
        },
    )


def topic_step(settings: Settings, contract: Contract) -> Step:
    """Return the event topic bound to its schema in the deployment's encoding."""
    topic = _topic(settings, contract)
    schema = f"projects/{settings.project}/schemas/{contract.schema_id}"
    return Step(
        "pubsub.topic",
        topic,
        pubsub.Topic(
            name=topic,
            schema_settings=pubsub.SchemaSettings(
                schema=schema, encoding=getattr(pubsub.Encoding, settings.encoding)
            ),
        ),
        why=f"producers publish {contract.name} here in {settings.encoding}; Pub/Sub rejects "
        "non-conforming payloads; the revision range and encoding follow the plan",
        depends_on=(schema,),
        context={
            "keep_revisions": settings.keep_revisions,
            "delete_unaccepted_revisions": settings.delete_unaccepted_revisions,
        },
    )


def subscription_step(settings: Settings, contract: Contract) -> Step:
    """Return the pipeline's subscription: no dead-letter topic and no retry policy.

    Dataflow supports neither on the subscriptions it reads: a stalled, draining
    or updating job would see valid messages forwarded to a dead-letter topic
    nobody reads. The pipeline's own dead letters are the failure path, and the
    backlog's age is alerted on.
    """
    name = _subscription(settings, pipeline_subscription_id(contract))
    return Step(
        "pubsub.subscription",
        name,
        pubsub.Subscription(
            name=name,
            topic=_topic(settings, contract),
            ack_deadline_seconds=ACK_DEADLINE_SECONDS,
            message_retention_duration=RETENTION,
            expiration_policy=pubsub.ExpirationPolicy(),  # never expires
        ),
        why="the pipeline reads here; no dead-letter topic or retry policy (Dataflow supports "
        "neither); 7 days of retention; never expires while the job is stopped",
        depends_on=(_topic(settings, contract),),
    )


def raw_subscription_step(settings: Settings, contract: Contract) -> Step:
    """Return the BigQuery subscription landing every message of the topic in its raw table."""
    name = _subscription(settings, raw_subscription_id(contract))
    table = _raw_table(contract)
    return Step(
        "pubsub.subscription",
        name,
        pubsub.Subscription(
            name=name,
            topic=_topic(settings, contract),
            bigquery_config=pubsub.BigQueryConfig(
                table=f"{settings.project}.{settings.raw_dataset_name}.{table}",
                use_topic_schema=True,
                write_metadata=True,
                drop_unknown_fields=False,
            ),
            ack_deadline_seconds=ACK_DEADLINE_SECONDS,
            message_retention_duration=RETENTION,
            expiration_policy=pubsub.ExpirationPolicy(),
        ),
        why=f"raw landing: every published message, as received, in {table} (no compute; "
        "a message that does not fit stays in the backlog, alerted, never dropped)",
        depends_on=(
            _topic(settings, contract),
            f"{settings.project}.{settings.raw_dataset_name}.{table}",
            f"{settings.project}.{settings.raw_dataset_name}.{table}: roles/bigquery.dataEditor",
        ),
    )


def _table_object(
    settings: Settings, dataset: str, name: str, api: dict[str, Any], expiration_days: int = 0
) -> bigquery.Table:
    api = copy.deepcopy(api)
    api["schema"]["fields"] = with_policy_tag(
        api["schema"]["fields"], PII_POLICY_TAG, settings.pii_policy_tag
    )
    if expiration_days:
        api["timePartitioning"]["expirationMs"] = str(expiration_days * 86_400_000)
    api["tableReference"] = {"projectId": settings.project, "datasetId": dataset, "tableId": name}
    return bigquery.Table.from_api_repr(api)


def _dataset_step(settings: Settings, dataset_id: str, why: str, description: str) -> Step:
    dataset = bigquery.Dataset(f"{settings.project}.{dataset_id}")
    dataset.location = settings.region
    dataset.description = description
    return Step("bigquery.dataset", f"{settings.project}.{dataset_id}", dataset, why=why)


def bigquery_steps(settings: Settings) -> list[Step]:
    """Return the datasets, the tables, the migrations, the in-place schema changes, the views.

    A table is created through the tables API with its generated schema,
    partitioning and clustering. Migrations (DDL) then widen types and the
    like; the schema step makes the live schema equal to the generated one
    wherever BigQuery allows (fields added inside RECORDs, relaxed modes,
    defaults of added columns, descriptions, policy tags). The raw landing
    tables live in a dataset of their own: they hold every payload whole,
    personal data included, so reading the warehouse does not mean reading them.
    """
    warehouse = settings.dataset
    steps = [
        _dataset_step(
            settings, warehouse, "the warehouse", "ecom-ingest fact tables and their views"
        )
    ]
    tables: list[tuple[str, str, dict[str, Any], str, int]] = [
        (warehouse, table, WAREHOUSE_TABLES[table]["api"], "fact table", 0) for table in TABLES
    ]
    if settings.raw_landing:
        raw = settings.raw_dataset_name
        retention = settings.raw_retention_days
        steps.append(
            _dataset_step(
                settings,
                raw,
                "raw landing, apart from the warehouse: whole payloads, personal data included; "
                f"partitions expire after {retention or 'no'} days",
                "ecom-ingest raw landing: every published message as Pub/Sub received it, "
                "personal data included; grant read access sparingly",
            )
        )
        tables += [
            (raw, name, spec["api"], f"raw landing of {spec['topic_id']}", retention)
            for name, spec in sorted(RAW_TABLES.items())
        ]
    for dataset, table, api, why, days in tables:
        steps.append(
            Step(
                "bigquery.table",
                f"{settings.project}.{dataset}.{table}",
                _table_object(settings, dataset, table, api, days),
                why=f"{why}; created through the tables API when missing",
                depends_on=(f"{settings.project}.{dataset}",),
            )
        )
    steps += migration_steps(settings)
    for dataset, table, api, _, days in tables:
        name = f"{settings.project}.{dataset}.{table}"
        steps.append(
            Step(
                "bigquery.table_schema",
                f"{name}: schema",
                _table_object(settings, dataset, table, api, days),
                why="make the live schema the generated one where BigQuery allows it in place",
                depends_on=(name,),
            )
        )
    for table in TABLES:
        view = WAREHOUSE_TABLES[table]["view"]
        steps.append(
            Step(
                "bigquery.view",
                f"{settings.project}.{warehouse}.{view}",
                _in_dataset(WAREHOUSE_TABLES[table]["view_ddl"], settings),
                why=f"one row per {WAREHOUSE_TABLES[table]['key_column']} (the earliest "
                "ingested): what queries read",
                depends_on=(f"{settings.project}.{warehouse}.{table}",),
            )
        )
    return steps


def _in_dataset(sql: str, settings: Settings) -> str:
    """Return generated SQL naming ``events.`` tables with the deployment's project and dataset."""
    return sql.replace("`events.", f"`{settings.project}.{settings.dataset}.")


def migration_steps(settings: Settings, migrations: Mapping[int, str] = MIGRATIONS) -> list[Step]:
    """Return one step per generated migration, in the deployment's project and dataset.

    A migration runs once and is recorded in the dataset's ``_migrations``
    table (as the local warehouse records its own); every statement is also
    idempotent, so running one twice changes nothing.
    """
    dataset = f"{settings.project}.{settings.dataset}"
    return [
        Step(
            "bigquery.migration",
            f"{dataset}: migration {number:04d}",
            _in_dataset(text, settings),
            why="DDL the released contracts need on live tables (generated by the gate); "
            "run once, recorded in the dataset's _migrations table",
            depends_on=tuple(f"{dataset}.{table}" for table in TABLES),
            context={"number": number, "ledger": f"{dataset}._migrations"},
        )
        for number, text in sorted(migrations.items())
    ]


def bucket_step(settings: Settings) -> Step:
    """Return the bucket for dead letters and Dataflow's temp and staging files.

    Built with the storage library's own lifecycle helpers, so the rules are
    exactly the JSON the API takes (``matchesPrefix``).
    """
    bucket = storage.Bucket(client=None, name=settings.bucket_name)
    bucket.iam_configuration.uniform_bucket_level_access_enabled = True
    bucket.iam_configuration.public_access_prevention = "enforced"
    bucket.add_lifecycle_delete_rule(
        age=settings.temp_retention_days, matches_prefix=["temp/", "staging/"]
    )
    bucket.add_lifecycle_delete_rule(
        age=settings.dead_letter_retention_days, matches_prefix=["dead_letters/"]
    )
    return Step(
        "storage.bucket",
        f"gs://{settings.bucket_name}",
        bucket,
        why=f"dead_letters/ kept {settings.dead_letter_retention_days} days, temp/ and staging/ "
        f"{settings.temp_retention_days}; uniform access, public access prevented",
        context={"location": settings.region},
    )


def repository_step(settings: Settings) -> Step:
    """Return the Artifact Registry Docker repository of the worker image."""
    from google.cloud import artifactregistry_v1

    return Step(
        "artifactregistry.repository",
        settings.repository_name,
        artifactregistry_v1.Repository(
            name=settings.repository_name,
            format_=artifactregistry_v1.Repository.Format.DOCKER,
            description="ecom-ingest Dataflow worker images (./run.sh image)",
        ),
        why="the worker image (Dockerfile) that run.sh launches with --sdk_container_image",
    )


def _binding(
    kind: str, resource: str, role: str, member: str, why: str, *depends: str, label: str = ""
) -> Step:
    return Step(
        kind,
        f"{label or resource}: {role}",
        policy_pb2.Binding(role=role, members=[member]),
        why=why,
        depends_on=depends,
        context={"resource": resource},
    )


def service_account_step(settings: Settings) -> Step:
    """Return the job's service account."""
    from google.cloud import iam_admin_v1

    return Step(
        "iam.service_account",
        settings.service_account,
        iam_admin_v1.CreateServiceAccountRequest(
            name=f"projects/{settings.project}",
            account_id=SERVICE_ACCOUNT_ID,
            service_account=iam_admin_v1.ServiceAccount(display_name="ecom-ingest Dataflow job"),
        ),
        why="the identity the Dataflow workers run as",
    )


def iam_steps(settings: Settings) -> list[Step]:
    """Return the least-privilege bindings of the job's service account, with reasons."""
    member = f"serviceAccount:{settings.service_account}"
    account = settings.service_account
    steps = [
        _binding("iam.project_binding", f"projects/{settings.project}", role, member, why, account)
        for role, why in PROJECT_ROLES.items()
    ]
    for contract in CONTRACTS:
        subscription = _subscription(settings, pipeline_subscription_id(contract))
        steps += [
            _binding("iam.pubsub_binding", subscription, role, member, why, subscription, account)
            for role, why in SUBSCRIPTION_ROLES.items()
        ]
    for contract in CONTRACTS:
        schema = f"projects/{settings.project}/schemas/{contract.schema_id}"
        steps += [
            _binding("iam.pubsub_binding", schema, role, member, why, schema, account)
            for role, why in SCHEMA_ROLES.items()
        ]
    dataset = f"{settings.project}.{settings.dataset}"
    steps.append(
        Step(
            "iam.dataset_binding",
            f"{dataset}: WRITER",
            bigquery.AccessEntry("WRITER", "userByEmail", settings.service_account),
            why="insert rows into this dataset's tables only (roles/bigquery.dataEditor on it)",
            depends_on=(dataset, account),
            context={"resource": dataset},
        )
    )
    steps.append(
        _binding(
            "iam.bucket_binding",
            settings.bucket_name,
            "roles/storage.objectAdmin",
            member,
            "write dead letters and Dataflow temp/staging files in this bucket only",
            f"gs://{settings.bucket_name}",
            account,
            label=f"gs://{settings.bucket_name}",
        )
    )
    steps.append(
        _binding(
            "iam.repository_binding",
            settings.repository_name,
            "roles/artifactregistry.reader",
            member,
            "workers pull the worker image from this repository only",
            settings.repository_name,
            account,
        )
    )
    if settings.raw_landing:
        agent = f"serviceAccount:{settings.pubsub_service_agent}"
        for name in sorted(RAW_TABLES):
            table = f"{settings.project}.{settings.raw_dataset_name}.{name}"
            steps.append(
                _binding(
                    "iam.table_binding",
                    table,
                    "roles/bigquery.dataEditor",
                    agent,
                    "Pub/Sub's service agent writes this raw landing table (and no other)",
                    table,
                )
            )
    return steps


def build_source_bucket_step(settings: Settings) -> Step:
    """Return the bucket ``./run.sh image`` uploads the build context to.

    ``gcloud builds submit`` would create ``PROJECT_cloudbuild`` on first use;
    it is made here instead, with the same name, so the build account can be
    granted read access to it alone (not to the project's other buckets).
    """
    bucket = storage.Bucket(client=None, name=settings.build_source_bucket)
    bucket.iam_configuration.uniform_bucket_level_access_enabled = True
    bucket.iam_configuration.public_access_prevention = "enforced"
    bucket.add_lifecycle_delete_rule(
        age=settings.temp_retention_days, matches_prefix=[BUILD_SOURCE_PREFIX]
    )
    return Step(
        "storage.bucket",
        f"gs://{settings.build_source_bucket}",
        bucket,
        why=f"./run.sh image uploads the build context to {BUILD_SOURCE_PREFIX} (kept "
        f"{settings.temp_retention_days} days); the build account reads it",
        context={"location": settings.region},
    )


def build_steps(settings: Settings) -> list[Step]:
    """Return the build source bucket and the grants of the account Cloud Build runs as.

    The account is ``--build-service-account``, by default the Compute Engine
    default service account, which new projects' builds run as since 2024
    and which has none of the legacy Cloud Build account's rights. A build of
    the worker image reads its uploaded context, writes its logs to Cloud
    Logging (run.sh asks for ``CLOUD_LOGGING_ONLY``, the logging a build with
    a user-specified account must choose) and pushes the image: those three
    grants, each on the one resource it needs where IAM allows.
    """
    member = f"serviceAccount:{settings.build_account}"
    bucket = build_source_bucket_step(settings)
    project_role, project_why = BUILD_ROLES["project"]
    bucket_role, bucket_why = BUILD_ROLES["bucket"]
    repository_role, repository_why = BUILD_ROLES["repository"]
    return [
        bucket,
        _binding(
            "iam.project_binding",
            f"projects/{settings.project}",
            project_role,
            member,
            f"Cloud Build ({settings.build_account}): {project_why}",
            label=f"projects/{settings.project} (builds)",
        ),
        _binding(
            "iam.bucket_binding",
            settings.build_source_bucket,
            bucket_role,
            member,
            f"Cloud Build: {bucket_why}",
            bucket.name,
            label=bucket.name,
        ),
        _binding(
            "iam.repository_binding",
            settings.repository_name,
            repository_role,
            member,
            f"Cloud Build: {repository_why}",
            settings.repository_name,
            label=f"{settings.repository_name} (builds)",
        ),
    ]


def build_plan(settings: Settings) -> list[Step]:
    """Return every step, in an order where each step's dependencies come first."""
    steps: list[Step] = [service_account_step(settings), repository_step(settings)]
    steps.append(bucket_step(settings))
    steps += build_steps(settings)
    steps += [schema_step(settings, contract) for contract in CONTRACTS]
    steps += bigquery_steps(settings)
    steps += [topic_step(settings, contract) for contract in CONTRACTS]
    steps += [subscription_step(settings, contract) for contract in CONTRACTS]
    iam = iam_steps(settings)
    steps += [step for step in iam if step.kind != "iam.table_binding"]
    if settings.raw_landing:
        steps += [step for step in iam if step.kind == "iam.table_binding"]
        steps += [raw_subscription_step(settings, contract) for contract in CONTRACTS]
    steps += monitoring_steps(settings)
    return steps


def pipeline_arguments(settings: Settings) -> list[str]:
    """Return the pipeline options naming this deployment's subscriptions, dataset and bucket."""
    arguments = []
    for contract in CONTRACTS:
        subscription = _subscription(settings, pipeline_subscription_id(contract))
        arguments += ["--subscription", f"{contract.name}={subscription}"]
    arguments += [
        "--sink", "bigquery",
        "--bq_project", settings.project,
        "--bq_dataset", settings.dataset,
        "--dead_letter_prefix", f"gs://{settings.bucket_name}/dead_letters",
    ]  # fmt: skip
    return arguments
