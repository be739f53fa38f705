"""Cloud Storage and Artifact Registry: the job's bucket and the worker image repository.

The bucket's lifecycle rules, uniform access and public access prevention
are the plan's: a live bucket whose settings differ is patched with the
storage library's own objects, so the request carries exactly the JSON the
plan shows (``lifecycle.rule[].condition.matchesPrefix``).
"""

from __future__ import annotations

from typing import Any

from google.api_core import exceptions
from google.cloud import storage  # type: ignore[attr-defined]

from ops.infra.context import Context
from ops.infra.settings import Step


def _rules(bucket: storage.Bucket) -> list[dict[str, Any]]:
    return [dict(rule) for rule in bucket.lifecycle_rules]


def ensure_bucket(context: Context, step: Step) -> list[str]:
    """Create the bucket, or patch its lifecycle rules and access settings to the plan."""
    wanted: storage.Bucket = step.request
    client = context.clients.storage
    try:
        current = client.get_bucket(wanted.name)
    except exceptions.NotFound:
        context.change(
            "create", lambda: client.create_bucket(wanted, location=step.context["location"])
        )
        return [f"create in {step.context['location']}"]
    actions = []
    if _rules(current) != _rules(wanted):
        current.lifecycle_rules = _rules(wanted)
        actions.append("set lifecycle rules")
    wanted_access = wanted.iam_configuration
    live_access = current.iam_configuration
    if not live_access.uniform_bucket_level_access_enabled:
        live_access.uniform_bucket_level_access_enabled = True
        actions.append("enable uniform bucket-level access")
    if live_access.public_access_prevention != wanted_access.public_access_prevention:
        live_access.public_access_prevention = wanted_access.public_access_prevention
        actions.append("enforce public access prevention")
    if actions:
        context.change("patch", current.patch)
    return actions


def ensure_repository(context: Context, step: Step) -> list[str]:
    """Create the Docker repository of the worker image if missing."""
    wanted: Any = step.request
    client = context.clients.artifact_registry
    try:
        client.get_repository(request={"name": wanted.name})
    except exceptions.NotFound:
        parent, repository_id = wanted.name.rsplit("/repositories/", 1)
        context.change(
            "create",
            lambda: client.create_repository(
                request={"parent": parent, "repository_id": repository_id, "repository": wanted}
            ).result(),
        )
        return ["create"]
    return []
