"""The Pub/Sub part of the infrastructure plan against Google's Pub/Sub emulator.

The emulator runs topics, subscriptions (BigQuery subscriptions included, which
it accepts without writing anywhere), schema revisions with their limit of 20,
topic schema settings (a topic bound to a schema of another project too) and
revision deletion, but not PROTOCOL_BUFFER schemas: the revision tests use
AVRO definitions with the very same apply code. IAM, BigQuery and Monitoring
are not emulated (see tests/unit/test_infra.py).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from google.cloud import pubsub_v1  # type: ignore[attr-defined]
from google.pubsub_v1 import types as pubsub

from ops.emulators import PubsubEmulator
from ops.infra.apply import apply
from ops.infra.context import Clients, Context, InfraError
from ops.infra.ensure_pubsub import ensure_schema, ensure_topic
from ops.infra.plan import build_plan
from ops.infra.settings import Settings, Step

ROOT = Path(__file__).resolve().parents[2]


def _project() -> str:
    return f"infra-{uuid.uuid4().hex[:8]}"


class RecordingSchemas:
    """The real schema client, with every list request kept (to see the view asked for)."""

    def __init__(self) -> None:
        self.client = pubsub_v1.SchemaServiceClient()
        self.listed: list[Any] = []

    def list_schema_revisions(self, request: Any) -> Any:
        self.listed.append(request)
        return self.client.list_schema_revisions(request=request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def _context(settings: Settings, *, changes: bool = True) -> Context:
    clients = Clients(
        schemas=RecordingSchemas(),
        publisher=pubsub_v1.PublisherClient(),
        subscriber=pubsub_v1.SubscriberClient(),
    )
    return Context(clients, settings, changes=changes)


def test_subscriptions_of_the_plan_on_the_emulator(emulator: PubsubEmulator):
    project = _project()
    settings = Settings(project, "europe-west1", project_number="123")
    steps = [s for s in build_plan(settings) if s.kind == "pubsub.subscription"]
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    for contract in ("order-events", "inventory-events", "user-activity-events"):
        publisher.create_topic(name=f"projects/{project}/topics/{contract}")
        publisher.create_topic(name=f"projects/{project}/topics/{contract}-undeliverable")
    # As the previous plan made it: a dead-letter topic and a retry policy Dataflow ignores.
    old = f"projects/{project}/subscriptions/order-events-pipeline"
    subscriber.create_subscription(
        request={
            "name": old,
            "topic": f"projects/{project}/topics/order-events",
            "ack_deadline_seconds": 60,
            "dead_letter_policy": {
                "dead_letter_topic": f"projects/{project}/topics/order-events-undeliverable",
                "max_delivery_attempts": 10,
            },
            "retry_policy": {"minimum_backoff": {"seconds": 10}},
            # Never expires already: the emulator cannot update expiration_policy.
            "expiration_policy": {},
        }
    )

    said: list[str] = []
    diff = _context(settings, changes=False)
    assert apply(diff, steps, said.append) == len(steps)
    listed = {s.name for s in subscriber.list_subscriptions(project=f"projects/{project}")}
    assert listed == {old}  # a diff changes nothing
    assert subscriber.get_subscription(subscription=old).dead_letter_policy.dead_letter_topic

    said.clear()
    assert apply(_context(settings), steps, said.append) == len(steps)
    assert any(
        "order-events-pipeline: clear dead_letter_policy, retry_policy" in line for line in said
    ), said
    current = subscriber.get_subscription(subscription=old)
    message = pubsub.Subscription.pb(current)
    assert not message.HasField("dead_letter_policy")
    assert not message.HasField("retry_policy")
    raw = subscriber.get_subscription(
        subscription=f"projects/{project}/subscriptions/inventory-events-raw"
    )
    assert raw.bigquery_config.table == f"{project}.events_raw.raw_inventory_events"
    assert raw.bigquery_config.use_topic_schema
    assert raw.bigquery_config.write_metadata

    said.clear()
    assert apply(_context(settings), steps, said.append) == 0  # idempotent
    assert all(line.endswith(": unchanged") for line in said), said


RECORD_FIELDS: list[dict[str, Any]] = [{"name": "id", "type": "string"}]


def _definition(*extra: str, spaced: bool = False) -> str:
    fields = RECORD_FIELDS + [
        {"name": name, "type": ["null", "string"], "default": None} for name in extra
    ]
    record = {"type": "record", "name": "Order", "fields": fields}
    return json.dumps(record, indent=4 if spaced else None)


def _schema_step(project: str, definition: str, keep: int = 0, *, delete: bool = False) -> Step:
    name = f"projects/{project}/schemas/order-event"
    return Step(
        "pubsub.schema",
        name,
        pubsub.Schema(name=name, type_=pubsub.Schema.Type.AVRO, definition=definition),
        context={
            "schema_id": "order-event",
            "contract": "ecom.events.v1.OrderEvent",
            "topic": f"projects/{project}/topics/order-events",
            "keep_revisions": keep,
            "delete_unaccepted_revisions": delete,
        },
    )


def _topic_step(project: str, encoding: str, keep: int = 0, *, delete: bool = False) -> Step:
    name = f"projects/{project}/topics/order-events"
    settings = pubsub.SchemaSettings(
        schema=f"projects/{project}/schemas/order-event",
        encoding=getattr(pubsub.Encoding, encoding),
    )
    return Step(
        "pubsub.topic",
        name,
        pubsub.Topic(name=name, schema_settings=settings),
        context={"keep_revisions": keep, "delete_unaccepted_revisions": delete},
    )


def _revisions(project: str) -> list[str]:
    client = pubsub_v1.SchemaServiceClient()
    listed = client.list_schema_revisions(name=f"projects/{project}/schemas/order-event")
    return [r.revision_id for r in listed]


def _registry() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((ROOT / "registry").iterdir())}


def test_schema_revisions_follow_meaning_ranges_and_the_limit(emulator: PubsubEmulator):
    registry = _registry()
    project = _project()
    context = _context(Settings(project, "europe-west1"))
    assert ensure_schema(context, _schema_step(project, _definition())) == ["create"]
    (first,) = _revisions(project)

    # The same meaning, laid out differently: no revision (comments are compared alike).
    assert ensure_schema(context, _schema_step(project, _definition(spaced=True))) == []
    assert _revisions(project) == [first]
    listed = context.clients.schemas.listed
    assert listed
    assert all(r.view == pubsub.SchemaView.FULL for r in listed)

    assert ensure_schema(context, _schema_step(project, _definition("coupon"))) == [
        "commit a new revision (2 of Pub/Sub's 20)"
    ]
    second = _revisions(project)[-1]
    assert ensure_topic(context, _topic_step(project, "JSON")) == [
        f"create (JSON, revisions {first}..{second})"
    ]
    topic = pubsub_v1.PublisherClient().get_topic(topic=f"projects/{project}/topics/order-events")
    assert topic.schema_settings.encoding == pubsub.Encoding.JSON
    assert topic.schema_settings.first_revision_id == first

    # A changed encoding is applied to the existing topic.
    assert ensure_topic(context, _topic_step(project, "BINARY")) == [
        f"schema settings BINARY, revisions {first}..{second} "
        f"(was JSON, revisions {first}..{second})"
    ]
    assert ensure_topic(context, _topic_step(project, "BINARY")) == []

    # Up to Pub/Sub's limit while the topic accepts every revision: a clear refusal.
    for number in range(3, 21):
        ensure_schema(
            context, _schema_step(project, _definition(*[f"f{n}" for n in range(number)]))
        )
    assert len(_revisions(project)) == 20
    ensure_topic(context, _topic_step(project, "BINARY"))
    with pytest.raises(InfraError, match=r"20 revisions, Pub/Sub's limit, and topics .* accept"):
        ensure_schema(context, _schema_step(project, _definition("one_too_many")))

    # --keep-revisions 2 alone: the oldest would make room, but a topic of another project
    # may still accept it, so nothing is deleted and the refusal says what to do.
    before = _revisions(project)
    with pytest.raises(
        InfraError,
        match=rf"revisions {before[0]} would make room: no topic of projects/{project} accepts "
        r"them, but a topic of another project may use this schema .* "
        "--delete-unaccepted-revisions",
    ):
        ensure_schema(context, _schema_step(project, _definition("one_too_many"), keep=2))
    assert _revisions(project) == before

    # With --delete-unaccepted-revisions too, in the plan's order (schema, then topic): the
    # schema step makes room by deleting what the topic will no longer accept, then commits;
    # the topic step narrows the range and keeps the rest until it is asked to delete it.
    actions = ensure_schema(
        context, _schema_step(project, _definition("one_too_many"), keep=2, delete=True)
    )
    assert actions == [
        f"delete revisions {before[0]} (no topic of projects/{project} accepts them; "
        "--delete-unaccepted-revisions)",
        "commit a new revision (20 of Pub/Sub's 20)",
    ]
    context.warnings.clear()
    (narrowed,) = ensure_topic(context, _topic_step(project, "BINARY", keep=2))
    assert narrowed.startswith("schema settings BINARY, revisions ")
    assert len(_revisions(project)) == 20
    (kept,) = context.warnings
    assert kept.startswith(f"projects/{project}/schemas/order-event: kept revisions {before[1]}, ")
    assert "--delete-unaccepted-revisions deletes them" in kept
    (deleted,) = ensure_topic(context, _topic_step(project, "BINARY", keep=2, delete=True))
    assert deleted.startswith(f"delete revisions {before[1]}, ")
    remaining = _revisions(project)
    assert len(remaining) == 2
    topic = pubsub_v1.PublisherClient().get_topic(topic=f"projects/{project}/topics/order-events")
    assert topic.schema_settings.first_revision_id == remaining[0]
    assert ensure_schema(context, _schema_step(project, _definition("one_more"), keep=2)) == [
        "commit a new revision (3 of Pub/Sub's 20)"
    ]
    assert _registry() == registry  # the registry holds releases, not deployment state


def test_revisions_a_topic_of_another_project_may_accept_are_kept_unless_asked(
    emulator: PubsubEmulator,
):
    """Pub/Sub lets a topic use a schema of another project (the emulator does too), and no
    request lists such topics: revisions no topic of the schema's project accepts are kept."""
    ours, theirs = _project(), _project()
    context = _context(Settings(ours, "europe-west1"))
    for extra in ((), ("coupon",), ("coupon", "note")):
        ensure_schema(context, _schema_step(ours, _definition(*extra)))
    first, second, third = _revisions(ours)
    ensure_topic(context, _topic_step(ours, "JSON"))
    publisher = pubsub_v1.PublisherClient()
    other_topic = f"projects/{theirs}/topics/orders"
    publisher.create_topic(
        request=pubsub.Topic(
            name=other_topic,
            schema_settings=pubsub.SchemaSettings(
                schema=f"projects/{ours}/schemas/order-event",
                encoding=pubsub.Encoding.JSON,
                first_revision_id=first,
            ),
        )
    )

    actions = ensure_topic(context, _topic_step(ours, "JSON", keep=1))
    assert actions == [
        f"schema settings JSON, revisions {third}..{third} (was JSON, revisions {first}..{third})"
    ]
    assert _revisions(ours) == [first, second, third]
    assert context.warnings == [
        f"projects/{ours}/schemas/order-event: kept revisions {first}, {second}: no topic of "
        f"projects/{ours} accepts them, but a topic of another project may use this schema "
        "(Pub/Sub allows it, and no request lists such topics); once none does, "
        "--delete-unaccepted-revisions deletes them"
    ]

    # Asked, the command deletes them: the other project's topic loses its first revision.
    actions = ensure_topic(context, _topic_step(ours, "JSON", keep=1, delete=True))
    assert actions == [
        f"delete revisions {first}, {second} (no topic of projects/{ours} accepts them; "
        "--delete-unaccepted-revisions)"
    ]
    assert _revisions(ours) == [third]
