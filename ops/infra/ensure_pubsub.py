"""Pub/Sub: schemas and their revisions, topics bound to them, subscriptions.

Schema revisions follow three rules. A revision is committed only when the
definition's *meaning* changed: comments and layout are not compared (see
``ecom_contracts.same_meaning``, the comparison the pipeline names a
message's registry revision by). Each topic accepts a range of revisions,
from its first (or, with ``--keep-revisions N``, the newest N) to the newest.
Revisions no topic of the project accepts are kept and reported: a topic of
another project may use the schema (Pub/Sub allows it, and no request lists
such topics), so they are deleted only with ``--delete-unaccepted-revisions``.
Pub/Sub keeps at most 20 revisions of a schema: a commit that would pass the
limit fails first with what to do, or, with that option, deletes what no
topic of the project accepts to make room.

Nothing here writes to the registry: revision ids differ per project, and the
pipeline names a revision at run time from its definition.
"""

from __future__ import annotations

import functools
from typing import Any, Final

from google.api_core import exceptions
from google.pubsub_v1 import types as pubsub

from ecom_contracts import same_meaning
from ops.infra.context import Context, InfraError
from ops.infra.plan import MAX_SCHEMA_REVISIONS
from ops.infra.settings import Step


def revisions(context: Context, schema: str) -> list[Any]:
    """Return every revision of ``schema`` with its definition (FULL view), oldest first."""
    request = pubsub.ListSchemaRevisionsRequest(name=schema, view=pubsub.SchemaView.FULL)
    listed = list(context.clients.schemas.list_schema_revisions(request=request))
    return sorted(listed, key=lambda r: (r.revision_create_time, r.revision_id))


def topics_using(context: Context, schema_id: str) -> list[Any]:
    """Return every topic of the project bound to its schema ``schema_id`` (other teams' too).

    Only this project's: Pub/Sub lets a topic of another project use the
    schema, and no request lists those.
    """
    project = f"projects/{context.settings.project}"
    schema = f"{project}/schemas/{schema_id}"
    listed = context.clients.publisher.list_topics(request={"project": project})
    return [topic for topic in listed if topic.schema_settings.schema == schema]


def accepted(ids: list[str], first: str, last: str) -> set[str]:
    """Return the revision ids a topic accepts: ``first`` to ``last`` (empty: open-ended)."""
    start = ids.index(first) if first in ids else 0
    end = ids.index(last) if last in ids else len(ids) - 1
    return set(ids[start : end + 1])


def unaccepted(ids: list[str], accepting: list[set[str]]) -> list[str]:
    """Return the revisions no topic accepts, oldest first; the newest is always kept."""
    kept = {ids[-1]} if ids else set()
    for revisions_of_a_topic in accepting:
        kept |= revisions_of_a_topic
    return [revision for revision in ids if revision not in kept]


def accepted_by_topics(
    context: Context, schema_id: str, ids: list[str], ours: str, keep: int, *, committing: bool
) -> list[set[str]]:
    """Return what each topic bound to the schema accepts, ours as the plan will set it.

    With ``keep`` (``--keep-revisions``), our topic ``ours`` will accept only
    the newest ``keep`` revisions, counting the one being committed.
    """
    accepting = []
    for topic in topics_using(context, schema_id):
        settings = topic.schema_settings
        if topic.name == ours and keep:
            newest = keep - 1 if committing else keep
            accepting.append(set(ids[-newest:]) if newest else set())
        else:
            accepting.append(accepted(ids, settings.first_revision_id, settings.last_revision_id))
    return accepting


def _project(schema: str) -> str:
    return schema.split("/schemas/", 1)[0]


def _delete(context: Context, schema: str, ids: list[str]) -> list[str]:
    for revision_id in ids:
        request = pubsub.DeleteSchemaRevisionRequest(name=f"{schema}@{revision_id}")
        context.change(
            "delete",
            functools.partial(context.clients.schemas.delete_schema_revision, request=request),
        )
    if not ids:
        return []
    return [
        f"delete revisions {', '.join(ids)} (no topic of {_project(schema)} accepts them; "
        "--delete-unaccepted-revisions)"
    ]


def _other_projects_note(schema: str) -> str:
    return (
        f"no topic of {_project(schema)} accepts them, but a topic of another project may use "
        "this schema (Pub/Sub allows it, and no request lists such topics)"
    )


def _clean_up(context: Context, step: Step, schema: str, ids: list[str]) -> list[str]:
    """Delete the revisions ``ids`` with ``--delete-unaccepted-revisions``; else keep and say so."""
    if not ids:
        return []
    if step.context.get("delete_unaccepted_revisions"):
        return _delete(context, schema, ids)
    context.warn(
        f"{schema}: kept revisions {', '.join(ids)}: {_other_projects_note(schema)}; once none "
        "does, --delete-unaccepted-revisions deletes them"
    )
    return []


def ensure_schema(context: Context, step: Step) -> list[str]:
    """Create the schema, or commit a revision when its meaning changed, within Pub/Sub's limit."""
    wanted: Any = step.request
    name = step.name
    try:
        context.clients.schemas.get_schema(
            request=pubsub.GetSchemaRequest(name=name, view=pubsub.SchemaView.FULL)
        )
    except exceptions.NotFound:
        parent, schema_id = name.rsplit("/schemas/", 1)
        context.change(
            "create",
            lambda: context.clients.schemas.create_schema(
                request=pubsub.CreateSchemaRequest(
                    parent=parent, schema=wanted, schema_id=schema_id
                )
            ),
        )
        return ["create"]
    existing = revisions(context, name)
    newest = existing[-1]
    if same_meaning(newest.definition, wanted.definition):
        return []
    actions: list[str] = []
    deleted: list[str] = []
    if len(existing) >= MAX_SCHEMA_REVISIONS:
        ids = [r.revision_id for r in existing]
        schema_id = step.context["schema_id"]
        accepting = accepted_by_topics(
            context,
            schema_id,
            ids,
            step.context.get("topic", ""),
            int(step.context.get("keep_revisions", 0)),
            committing=True,
        )
        deleted = unaccepted(ids, accepting)[: len(existing) - MAX_SCHEMA_REVISIONS + 1]
        if not deleted:
            topics = ", ".join(t.name for t in topics_using(context, schema_id)) or "(none)"
            raise InfraError(
                f"{name} has {len(existing)} revisions, Pub/Sub's limit, and topics {topics} "
                "accept every one: rerun with --keep-revisions N --delete-unaccepted-revisions "
                "(topics then refuse producers still on older revisions), or delete revisions "
                "no producer uses (gcloud pubsub schemas delete-revision)"
            )
        if not step.context.get("delete_unaccepted_revisions"):
            raise InfraError(
                f"{name} has {len(existing)} revisions, Pub/Sub's limit; revisions "
                f"{', '.join(deleted)} would make room: {_other_projects_note(name)}. Check "
                "that none does, then rerun with --delete-unaccepted-revisions"
            )
        actions += _delete(context, name, deleted)
    context.change(
        "commit",
        lambda: context.clients.schemas.commit_schema(
            request=pubsub.CommitSchemaRequest(name=name, schema=wanted)
        ),
    )
    count = len(existing) - len(deleted) + 1
    actions.append(f"commit a new revision ({count} of Pub/Sub's {MAX_SCHEMA_REVISIONS})")
    if count >= MAX_SCHEMA_REVISIONS - 3:
        context.warn(
            f"{name} holds {count} revisions; Pub/Sub refuses commits past "
            f"{MAX_SCHEMA_REVISIONS}: plan --keep-revisions and --delete-unaccepted-revisions"
        )
    return actions


def _settings_text(settings: Any) -> str:
    encoding = pubsub.Encoding(settings.encoding).name
    return f"{encoding}, revisions {settings.first_revision_id}..{settings.last_revision_id}"


def ensure_topic(context: Context, step: Step) -> list[str]:
    """Create the topic or bring its schema settings (encoding, revision range) to the plan.

    The range ends at the newest revision and starts where it started (or,
    with ``--keep-revisions N``, at the N-th newest). Revisions no topic of
    the project accepts afterwards are deleted with
    ``--delete-unaccepted-revisions``, else kept and reported.
    """
    wanted: Any = step.request
    schema = wanted.schema_settings.schema
    schema_id = schema.rsplit("/", 1)[-1]
    try:
        ids = [r.revision_id for r in revisions(context, schema)]
    except exceptions.NotFound:  # a diff before the schema exists
        ids = []
    keep = int(step.context.get("keep_revisions", 0))
    try:
        current = context.clients.publisher.get_topic(request={"topic": step.name})
    except exceptions.NotFound:
        current = None
    first = ids[-keep] if keep and len(ids) >= keep else (ids[0] if ids else "")
    if current is not None and current.schema_settings.schema and not keep:
        start = current.schema_settings.first_revision_id
        first = start if start in ids else first
    settings = pubsub.SchemaSettings(
        schema=schema,
        encoding=wanted.schema_settings.encoding,
        first_revision_id=first,
        last_revision_id=ids[-1] if ids else "",
    )
    topic = pubsub.Topic(name=step.name, schema_settings=settings)
    if current is None:
        context.change("create", lambda: context.clients.publisher.create_topic(request=topic))
        actions = [f"create ({_settings_text(settings)})"]
    elif _same_settings(current.schema_settings, settings):
        actions = []
    else:
        context.change(
            "update",
            lambda: context.clients.publisher.update_topic(
                request=pubsub.UpdateTopicRequest(
                    topic=topic, update_mask={"paths": ["schema_settings"]}
                )
            ),
        )
        was = _settings_text(current.schema_settings) if current.schema_settings.schema else "none"
        actions = [f"schema settings {_settings_text(settings)} (was {was})"]
    if ids:
        others = [t for t in topics_using(context, schema_id) if t.name != step.name]
        accepting = [accepted(ids, first, settings.last_revision_id)] + [
            accepted(ids, t.schema_settings.first_revision_id, t.schema_settings.last_revision_id)
            for t in others
        ]
        actions += _clean_up(context, step, schema, unaccepted(ids, accepting))
    return actions


def _same_settings(current: Any, wanted: Any) -> bool:
    return bool(
        current.schema == wanted.schema
        and current.encoding == wanted.encoding
        and current.first_revision_id == wanted.first_revision_id
        and current.last_revision_id == wanted.last_revision_id
    )


_OWNED: Final = (
    "ack_deadline_seconds",
    "message_retention_duration",
    "expiration_policy",
    "bigquery_config",
    "dead_letter_policy",
    "retry_policy",
)
"""Subscription fields the plan owns; a dead-letter or retry policy on one is cleared."""


def _field(subscription: Any, name: str) -> Any:
    message = pubsub.Subscription.pb(subscription)
    if name == "ack_deadline_seconds":
        return getattr(message, name)
    if not message.HasField(name):
        return None
    value = getattr(message, name)
    if name == "bigquery_config":  # state and the service account are not the plan's
        return (
            value.table,
            value.use_topic_schema,
            value.write_metadata,
            value.drop_unknown_fields,
        )
    return value.SerializeToString(deterministic=True)


def _create_subscription(context: Context, wanted: Any) -> list[str]:
    """Create a subscription; a BigQuery one is retried while its table grant propagates.

    Pub/Sub checks at creation that its service agent can write the table; a
    grant made moments before can take a while to be seen (bounded retries).
    """
    writes_bigquery = pubsub.Subscription.pb(wanted).HasField("bigquery_config")
    _, retries = context.retrying(
        wanted.name,
        lambda: context.change(
            "create", lambda: context.clients.subscriber.create_subscription(request=wanted)
        ),
        (exceptions.PermissionDenied, exceptions.FailedPrecondition),
        lambda _: writes_bigquery,
        first_delay=5.0,
        max_delay=60.0,
    )
    return ["create" + (f" (after {retries} retries)" if retries else "")]


def ensure_subscription(context: Context, step: Step) -> list[str]:
    """Create the subscription, or bring the fields the plan owns to the plan.

    A subscription created earlier with a dead-letter topic or a retry policy
    (which Dataflow does not support) has them cleared.
    """
    wanted: Any = step.request
    try:
        current = context.clients.subscriber.get_subscription(request={"subscription": step.name})
    except exceptions.NotFound:
        return _create_subscription(context, wanted)
    if current.topic != wanted.topic:
        context.warn(
            f"{step.name} reads {current.topic}, not {wanted.topic}; a subscription's topic "
            "cannot change: delete it (after draining) and apply again"
        )
        return []
    paths = [name for name in _OWNED if _field(current, name) != _field(wanted, name)]
    if not paths:
        return []
    context.change(
        "update",
        lambda: context.clients.subscriber.update_subscription(
            request=pubsub.UpdateSubscriptionRequest(
                subscription=wanted, update_mask={"paths": paths}
            )
        ),
    )
    cleared = [p for p in paths if _field(wanted, p) is None]
    updated = [p for p in paths if p not in cleared]
    actions = []
    if cleared:
        actions.append(f"clear {', '.join(cleared)}")
    if updated:
        actions.append(f"update {', '.join(updated)}")
    return actions
