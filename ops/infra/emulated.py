"""The plan on local services: what the emulators answer is applied, the rest is skipped, said.

When the emulator variables of :mod:`pipeline.endpoints` are set,
``python -m ops.infra`` applies the plan to them: topics, subscriptions,
the dataset, tables, migrations, schema patches, views, the bucket and its
lifecycle rules. What no local implementation answers is skipped, each step
on its own line with the reason, and never faked:

- IAM (service account, every binding), Cloud Monitoring (alerts, dashboard)
  and Artifact Registry (the worker image repository): no emulator exists;
- Pub/Sub schemas: the Pub/Sub emulator has no PROTOCOL_BUFFER schemas, so
  topics are created without a schema binding (the pipeline's own contract
  check is then the only one);
- BigQuery subscriptions (raw landing): the Pub/Sub emulator accepts them but
  writes nowhere, so they are skipped rather than shown as working (their raw
  tables are still created: BigQuery answers).

One difference of the BigQuery emulator is worked around, in the open:
local-bigquery 0.4.0 keeps a column's ``defaultValueExpression`` given
through the tables API in its metadata without applying it, so ``events``'
``ingestion_timestamp`` would stay NULL. Locally a missing fact table is
therefore created by its generated DDL (``CREATE TABLE IF NOT EXISTS``: the
same columns, default, partitioning and clustering, from the same contract);
creation through the tables API stays a client-boundary test.

Either all three emulators are named or none: a deployment half local and
half on Google Cloud is refused, so a local run never touches a real project.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from google.api_core import exceptions
from google.pubsub_v1 import types as pubsub

from ecom_warehouse.artifacts import WAREHOUSE_TABLES
from ops.infra import ensure_bigquery
from ops.infra.context import Context
from ops.infra.settings import Step
from pipeline.endpoints import (
    BIGQUERY_EMULATOR_HOST,
    PUBSUB_EMULATOR_HOST,
    STORAGE_EMULATOR_HOST,
    named_emulators,
)

NEEDED: Final = (PUBSUB_EMULATOR_HOST, BIGQUERY_EMULATOR_HOST, STORAGE_EMULATOR_HOST)
UNANSWERED: Final = {
    "iam.": "IAM has no local implementation",
    "monitoring.": "Cloud Monitoring has no local implementation",
    "artifactregistry.": "Artifact Registry has no local implementation",
    "pubsub.schema": "the Pub/Sub emulator has no PROTOCOL_BUFFER schemas",
}
"""Kinds of steps (by prefix) no emulator answers, and why."""
SCHEMA_BINDING: Final = (
    "schema binding skipped: the Pub/Sub emulator has no PROTOCOL_BUFFER schemas"
)
BIGQUERY_SUBSCRIPTION: Final = (
    "the Pub/Sub emulator accepts BigQuery subscriptions but writes nothing"
)


class HalfLocalError(ValueError):
    """Some emulators are named and others not: the deployment would be half local."""


def emulated() -> bool:
    """Return whether the plan goes to the local services (all three named, or raise).

    Raises HalfLocalError naming the missing variables when only some are set.
    """
    named = named_emulators()
    present = [variable for variable in NEEDED if variable in named]
    if not present:
        return False
    missing = [variable for variable in NEEDED if variable not in named]
    if missing:
        raise HalfLocalError(
            f"{', '.join(present)} set but not {', '.join(missing)}: name every emulator, or "
            "none to deploy to Google Cloud"
        )
    return True


def skip_reason(step: Step) -> str:
    """Return why the local services cannot take ``step`` (empty: they can)."""
    for prefix, reason in UNANSWERED.items():
        if step.kind.startswith(prefix):
            return reason
    if step.kind == "pubsub.subscription" and pubsub.Subscription.pb(step.request).HasField(
        "bigquery_config"
    ):
        return BIGQUERY_SUBSCRIPTION
    return ""


def local_step(step: Step) -> Step:
    """Return ``step`` as the local services take it: a topic loses its schema binding."""
    if step.kind != "pubsub.topic":
        return step
    topic = pubsub.Topic(name=step.request.name)
    return dataclasses.replace(step, request=topic, depends_on=(), why=SCHEMA_BINDING)


def ensure_topic_without_schema(context: Context, step: Step) -> list[str]:
    """Create the topic, unbound (see :func:`local_step`), when it is missing."""
    try:
        context.clients.publisher.get_topic(topic=step.name)
    except exceptions.NotFound:
        publisher = context.clients.publisher
        context.change("create", lambda: publisher.create_topic(request=step.request))
        return [f"create ({SCHEMA_BINDING})"]
    return []


def ensure_fact_table_by_ddl(context: Context, step: Step) -> list[str]:
    """Create a missing fact table by its generated DDL (see the module's note); else as usual."""
    wanted = step.request
    spec = WAREHOUSE_TABLES.get(wanted.table_id)
    client = context.clients.bigquery
    try:
        client.get_table(wanted.reference)
    except exceptions.NotFound:
        if spec is None:
            return ensure_bigquery.ensure_table(context, step)
        ddl = spec["ddl"].replace("`events.", f"`{wanted.project}.{wanted.dataset_id}.")
        context.change("create", lambda: client.query(ddl).result())
        return ["create by its generated DDL (the emulator applies no tables-API default)"]
    return ensure_bigquery.ensure_table(context, step)
