"""IAM: the job's service account and every binding, read-modify-write with bounded retries.

Policies are read as version 3, so projects with conditional bindings keep
them, and a member is only ever added to an unconditional binding of its
role. A write retried after an etag conflict (another change landed in
between) or while a freshly created service account is not yet visible to
IAM re-reads the policy each time, up to ``Context.attempts`` times with
exponential backoff, and then fails with the last error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final

from google.api_core import exceptions
from google.iam.v1 import iam_policy_pb2, options_pb2, policy_pb2

from ops.infra.context import Context
from ops.infra.settings import Step

POLICY_VERSION: Final = 3
_CONFLICTS: Final = (exceptions.Aborted, exceptions.Conflict, exceptions.PreconditionFailed)


def _not_yet_visible(error: Exception) -> bool:
    """Return whether IAM does not know a member yet (a service account created moments ago)."""
    return isinstance(error, exceptions.BadRequest | exceptions.InvalidArgument) and (
        "does not exist" in str(error)
    )


def grant(
    context: Context,
    describe: str,
    read: Callable[[], Any],
    has: Callable[[Any], bool],
    add: Callable[[Any], None],
    write: Callable[[Any], Any],
) -> list[str]:
    """Read a policy, add a binding if missing and write it back, retrying conflicts (bounded)."""

    def read_modify_write() -> list[str]:
        try:
            policy = read()
        except exceptions.NotFound:
            if context.changes:
                raise
            return [f"{describe} (once the resource exists)"]
        if has(policy):
            return []
        add(policy)
        context.change(describe, functools.partial(write, policy))
        return [describe]

    actions, retries = context.retrying(
        describe,
        read_modify_write,
        (*_CONFLICTS, exceptions.BadRequest, exceptions.InvalidArgument),
        lambda error: isinstance(error, _CONFLICTS) or _not_yet_visible(error),
        first_delay=2.0,
        max_delay=30.0,
    )
    return [f"{action} (after {retries} retries)" if retries else action for action in actions]


def _member(step: Step) -> tuple[str, str]:
    binding: policy_pb2.Binding = step.request
    return binding.role, binding.members[0]


def _proto_has(role: str, member: str) -> Callable[[policy_pb2.Policy], bool]:
    def has(policy: policy_pb2.Policy) -> bool:
        return any(
            b.role == role and member in b.members and not b.HasField("condition")
            for b in policy.bindings
        )

    return has


def _proto_add(role: str, member: str) -> Callable[[policy_pb2.Policy], None]:
    def add(policy: policy_pb2.Policy) -> None:
        for binding in policy.bindings:
            if binding.role == role and not binding.HasField("condition"):
                binding.members.append(member)
                break
        else:
            policy.bindings.add(role=role, members=[member])
        policy.version = POLICY_VERSION

    return add


def _grant_proto(context: Context, step: Step, client: Any) -> list[str]:
    """Grant on a resource whose client speaks ``google.iam.v1`` (projects, Pub/Sub, registry)."""
    role, member = _member(step)
    resource = step.context["resource"]
    return grant(
        context,
        f"grant {role} to {member}",
        lambda: client.get_iam_policy(
            request=iam_policy_pb2.GetIamPolicyRequest(
                resource=resource,
                options=options_pb2.GetPolicyOptions(requested_policy_version=POLICY_VERSION),
            )
        ),
        _proto_has(role, member),
        _proto_add(role, member),
        lambda policy: client.set_iam_policy(
            request=iam_policy_pb2.SetIamPolicyRequest(resource=resource, policy=policy)
        ),
    )


def ensure_service_account(context: Context, step: Step) -> list[str]:
    """Create the job's service account if missing."""
    try:
        context.clients.iam.get_service_account(
            request={"name": f"projects/-/serviceAccounts/{step.name}"}
        )
        return []
    except exceptions.NotFound:
        context.change(
            "create", lambda: context.clients.iam.create_service_account(request=step.request)
        )
        return ["create"]


def ensure_project_binding(context: Context, step: Step) -> list[str]:
    """Grant a project-level role (policy version 3: conditional bindings are kept)."""
    return _grant_proto(context, step, context.clients.projects)


def ensure_pubsub_binding(context: Context, step: Step) -> list[str]:
    """Grant a role on one topic, subscription or schema."""
    resource = step.context["resource"]
    if "/subscriptions/" in resource:
        client = context.clients.subscriber
    elif "/schemas/" in resource:
        client = context.clients.schemas
    else:
        client = context.clients.publisher
    return _grant_proto(context, step, client)


def ensure_repository_binding(context: Context, step: Step) -> list[str]:
    """Grant a role on the Artifact Registry repository."""
    return _grant_proto(context, step, context.clients.artifact_registry)


def _dict_has(role: str, member: str) -> Callable[[Any], bool]:
    def has(policy: Any) -> bool:
        return any(
            b["role"] == role and member in b["members"] and not b.get("condition")
            for b in policy.bindings
        )

    return has


def _dict_add(role: str, member: str, version: int) -> Callable[[Any], None]:
    def add(policy: Any) -> None:
        for binding in policy.bindings:
            if binding["role"] == role and not binding.get("condition"):
                binding["members"] = set(binding["members"]) | {member}
                break
        else:
            policy.bindings.append({"role": role, "members": {member}})
        policy.version = version

    return add


def ensure_bucket_binding(context: Context, step: Step) -> list[str]:
    """Grant a role on the bucket (policy version 3)."""
    role, member = _member(step)
    bucket = context.clients.storage.bucket(step.context["resource"])
    return grant(
        context,
        f"grant {role} to {member}",
        lambda: bucket.get_iam_policy(requested_policy_version=POLICY_VERSION),
        _dict_has(role, member),
        _dict_add(role, member, POLICY_VERSION),
        bucket.set_iam_policy,
    )


def ensure_table_binding(context: Context, step: Step) -> list[str]:
    """Grant a role on one BigQuery table (table policies are version 1)."""
    role, member = _member(step)
    table = step.context["resource"]
    client = context.clients.bigquery
    return grant(
        context,
        f"grant {role} to {member}",
        lambda: client.get_iam_policy(table),
        _dict_has(role, member),
        _dict_add(role, member, 1),
        lambda policy: client.set_iam_policy(table, policy),
    )


def ensure_dataset_binding(context: Context, step: Step) -> list[str]:
    """Add the dataset access entry (WRITER) of the job's service account."""
    entry = step.request
    client = context.clients.bigquery

    def read() -> Any:
        return client.get_dataset(step.context["resource"])

    def has(dataset: Any) -> bool:
        return any(
            e.role == entry.role and e.entity_id == entry.entity_id for e in dataset.access_entries
        )

    def add(dataset: Any) -> None:
        dataset.access_entries = [*dataset.access_entries, entry]

    return grant(
        context,
        f"grant {entry.role} to {entry.entity_id}",
        read,
        has,
        add,
        lambda dataset: client.update_dataset(dataset, ["access_entries"]),
    )
