"""Apply a plan with the Google Cloud client libraries, idempotently.

Each step is *ensured*: read the resource, create it when missing, bring the
parts the plan owns up to date when they differ, and leave it alone otherwise.
A schema whose definition changed gets a new revision (never a replacement),
and its topic is moved to accept revisions up to the new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.api_core import exceptions

from contracts.registry import REGISTRY, Registry
from ops.infra.plan import ROOT, Settings, Step


@dataclass
class Clients:
    """The client objects used; tests hand in fakes at this boundary."""

    schemas: Any
    publisher: Any
    subscriber: Any
    bigquery: Any
    storage: Any
    iam: Any
    projects: Any
    registry_root: Path = ROOT / REGISTRY

    @classmethod
    def real(cls, settings: Settings) -> Clients:
        """Create the real clients (application default credentials)."""
        from google.cloud import bigquery, iam_admin_v1, pubsub_v1, resourcemanager_v3, storage  # type: ignore[attr-defined]

        return cls(
            schemas=pubsub_v1.SchemaServiceClient(),
            publisher=pubsub_v1.PublisherClient(),
            subscriber=pubsub_v1.SubscriberClient(),
            bigquery=bigquery.Client(project=settings.project, location=settings.region),
            storage=storage.Client(project=settings.project),
            iam=iam_admin_v1.IAMClient(),
            projects=resourcemanager_v3.ProjectsClient(),
        )


def ensure_schema(clients: Clients, step: Step) -> str:
    """Create the schema or commit a new revision if its definition changed; return the outcome.

    The Pub/Sub revision id that now carries the contract is recorded in the
    registry (``registry/index.json``: commit it), so the pipeline can report
    which registry revision a message was published as.
    """
    wanted = step.request["schema"]
    try:
        current = clients.schemas.get_schema(request={"name": step.name})
    except exceptions.NotFound:
        current = clients.schemas.create_schema(
            request={
                "parent": step.request["parent"],
                "schema": wanted,
                "schema_id": step.request["schema_id"],
            }
        )
        outcome = "created"
    else:
        if current.definition == wanted["definition"]:
            outcome = "unchanged"
        else:
            current = clients.schemas.commit_schema(request={"name": step.name, "schema": wanted})
            outcome = "new revision committed"
    record_pubsub_revision(
        clients.registry_root,
        step.request["schema_id"],
        current.revision_id,
        step.request["contract"],
    )
    return f"{outcome} (Pub/Sub revision {current.revision_id})"


def record_pubsub_revision(root: Path, schema_id: str, revision_id: str, contract: str) -> None:
    """Map a Pub/Sub schema revision to the contract's latest registry revision."""
    registry = Registry.load(root)
    revision = registry.revision(contract)
    if revision and registry.pubsub_revisions.get(schema_id, {}).get(revision_id) != revision:
        registry.pubsub_revisions.setdefault(schema_id, {})[revision_id] = revision
        registry.save()


def ensure_migration(clients: Clients, step: Step) -> str:
    """Run a migration script (idempotent statements) as one BigQuery job."""
    clients.bigquery.query(step.request["sql"]).result()
    return "applied"


def _revisions(clients: Clients, schema: str) -> tuple[str, str]:
    """Return the first and the newest revision ids of ``schema``."""
    revisions = list(clients.schemas.list_schema_revisions(request={"name": schema}))
    ordered = sorted(revisions, key=lambda r: (r.revision_create_time, r.revision_id))
    return ordered[0].revision_id, ordered[-1].revision_id


def ensure_topic(clients: Clients, step: Step) -> str:
    """Create the topic (bound to its schema's revision range) or move the range forward."""
    request = dict(step.request)
    settings = request.get("schema_settings")
    if settings is not None:
        first, last = _revisions(clients, settings["schema"])
        settings = {**settings, "first_revision_id": first, "last_revision_id": last}
        request["schema_settings"] = settings
    try:
        current = clients.publisher.get_topic(request={"topic": step.name})
    except exceptions.NotFound:
        clients.publisher.create_topic(request=request)
        return "created"
    if settings is None or current.schema_settings.last_revision_id == settings["last_revision_id"]:
        return "unchanged"
    clients.publisher.update_topic(
        request={"topic": request, "update_mask": {"paths": ["schema_settings"]}}
    )
    return f"now accepts revisions {settings['first_revision_id']}..{settings['last_revision_id']}"


def ensure_subscription(clients: Clients, step: Step) -> str:
    """Create the subscription or update its policies."""
    try:
        clients.subscriber.get_subscription(request={"subscription": step.name})
    except exceptions.NotFound:
        clients.subscriber.create_subscription(request=step.request)
        return "created"
    paths = [
        "ack_deadline_seconds",
        "message_retention_duration",
        "dead_letter_policy",
        "retry_policy",
    ]
    clients.subscriber.update_subscription(
        request={"subscription": step.request, "update_mask": {"paths": paths}}
    )
    return "policies updated"


def ensure_dataset(clients: Clients, step: Step) -> str:
    """Create the dataset if missing."""
    from google.cloud import bigquery

    dataset = bigquery.Dataset(step.request["dataset_id"])
    dataset.location = step.request["location"]
    clients.bigquery.create_dataset(dataset, exists_ok=True)
    return "ensured"


def ensure_table(clients: Clients, step: Step) -> str:
    """Run the table's ``CREATE TABLE IF NOT EXISTS``."""
    clients.bigquery.query(step.request["ddl"]).result()
    return "ensured"


def ensure_bucket(clients: Clients, step: Step) -> str:
    """Create the bucket with uniform access and lifecycle rules, or update the rules."""
    request = step.request
    try:
        bucket = clients.storage.get_bucket(request["name"])
        outcome = "updated"
    except exceptions.NotFound:
        bucket = clients.storage.bucket(request["name"])
        outcome = "created"
    bucket.iam_configuration.uniform_bucket_level_access_enabled = True
    bucket.iam_configuration.public_access_prevention = request["public_access_prevention"]
    bucket.lifecycle_rules = request["lifecycle_rules"]
    if outcome == "created":
        clients.storage.create_bucket(bucket, location=request["location"])
    else:
        bucket.patch()
    return outcome


def ensure_service_account(clients: Clients, step: Step) -> str:
    """Create the job's service account if missing."""
    try:
        clients.iam.get_service_account(
            request={"name": f"{step.request['name']}/serviceAccounts/{step.name}"}
        )
        return "exists"
    except exceptions.NotFound:
        clients.iam.create_service_account(request=step.request)
        return "created"


def _add_binding(policy: Any, role: str, member: str) -> bool:
    """Add ``member`` to ``role`` in a protobuf IAM policy; return whether it changed."""
    for binding in policy.bindings:
        if binding.role == role:
            if member in binding.members:
                return False
            binding.members.append(member)
            return True
    policy.bindings.add(role=role, members=[member])
    return True


def ensure_project_binding(clients: Clients, step: Step) -> str:
    """Grant a project-level role."""
    resource = step.request["resource"]
    policy = clients.projects.get_iam_policy(request={"resource": resource})
    if not _add_binding(policy, step.request["role"], step.request["member"]):
        return "exists"
    clients.projects.set_iam_policy(request={"resource": resource, "policy": policy})
    return "granted"


def ensure_pubsub_binding(clients: Clients, step: Step) -> str:
    """Grant a role on one topic or subscription."""
    resource = step.request["resource"]
    client = clients.subscriber if "/subscriptions/" in resource else clients.publisher
    policy = client.get_iam_policy(request={"resource": resource})
    if not _add_binding(policy, step.request["role"], step.request["member"]):
        return "exists"
    client.set_iam_policy(request={"resource": resource, "policy": policy})
    return "granted"


def ensure_dataset_binding(clients: Clients, step: Step) -> str:
    """Grant WRITER on the dataset to the job's service account."""
    from google.cloud import bigquery

    dataset = clients.bigquery.get_dataset(step.request["resource"])
    email = step.request["member"].removeprefix("serviceAccount:")
    entries = list(dataset.access_entries)
    if any(e.role == step.request["role"] and e.entity_id == email for e in entries):
        return "exists"
    entries.append(bigquery.AccessEntry(step.request["role"], "userByEmail", email))
    dataset.access_entries = entries
    clients.bigquery.update_dataset(dataset, ["access_entries"])
    return "granted"


def ensure_bucket_binding(clients: Clients, step: Step) -> str:
    """Grant a role on the bucket."""
    bucket = clients.storage.bucket(step.request["resource"])
    policy = bucket.get_iam_policy(requested_policy_version=3)
    role, member = step.request["role"], step.request["member"]
    for binding in policy.bindings:
        if binding["role"] == role and member in binding["members"]:
            return "exists"
    policy.bindings.append({"role": role, "members": {member}})
    bucket.set_iam_policy(policy)
    return "granted"


ENSURE: dict[str, Callable[[Clients, Step], str]] = {
    "pubsub.schema": ensure_schema,
    "pubsub.topic": ensure_topic,
    "pubsub.subscription": ensure_subscription,
    "bigquery.dataset": ensure_dataset,
    "bigquery.table": ensure_table,
    "bigquery.migration": ensure_migration,
    "storage.bucket": ensure_bucket,
    "iam.service_account": ensure_service_account,
    "iam.project_binding": ensure_project_binding,
    "iam.subscription_binding": ensure_pubsub_binding,
    "iam.topic_binding": ensure_pubsub_binding,
    "iam.dataset_binding": ensure_dataset_binding,
    "iam.bucket_binding": ensure_bucket_binding,
}


def apply(clients: Clients, steps: list[Step], say: Callable[[str], None] = print) -> None:
    """Ensure every step in order, saying what each one did."""
    for step in steps:
        outcome = ENSURE[step.kind](clients, step)
        say(f"{step.describe()}: {outcome}")
