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

Either all three emulators are named or none: a deployment half local and
half on Google Cloud is refused, so a local run never touches a real project.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from google.api_core import exceptions
from google.pubsub_v1 import types as pubsub

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
