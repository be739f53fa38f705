"""Two projects side by side (staging and production) from one release, on the Pub/Sub emulator.

Their Pub/Sub schema revisions get ids of their own, so no file can map ids
to registry revisions: each message's registry revision is named at run time
from what it carries, and applying the infrastructure writes nothing to
``registry/``.

What runs where. The infrastructure's own Pub/Sub steps (``build_plan``'s
schema, topic and subscription steps, through ``ops.infra.apply``) run for
each project; topics, subscriptions, publishing and pulling are the
emulator's, and the pulled messages go through the pipeline's reader
(``to_record``) and stages 2 to 5 (``process``). Google's emulator does not
support PROTOCOL_BUFFER schemas (it answers 501), and a topic there cannot
name a schema it does not hold, so two things stand in at the client's
boundary: the schema service (``tests/schema_service.py``, random revision ids
per schema as Pub/Sub's), handed to both the infrastructure and the pipeline's
lookup; and :class:`TopicsWithSchemas`, which keeps each topic's schema
settings beside the emulator's topic and adds to every published message the
attributes Pub/Sub adds for a topic with a schema (``googclient_schemaname``,
``googclient_schemaencoding`` and ``googclient_schemarevisionid``: the newest
revision the topic accepts, which a payload of an older revision also passes).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from apache_beam.io.gcp.pubsub import PubsubMessage
from google.cloud import pubsub_v1  # type: ignore[attr-defined]
from google.pubsub_v1 import types as pubsub

import ecom_contracts
from ecom_contracts_pb.events.v1 import inventory_event_pb2
from ecom_contracts_pb.registry_revisions import PUBSUB_DEFINITIONS
from ecom_warehouse.artifacts import PUBSUB_SCHEMAS
from ops.emulators import PubsubEmulator
from ops.infra import plan
from ops.infra.apply import apply
from ops.infra.context import Clients, Context
from ops.infra.settings import Settings
from pipeline.process import Outcome, process
from pipeline.record import PubsubRecord
from pipeline.revisions import RevisionResolver
from pipeline.sources import to_record
from tests.schema_service import FakeSchemaService

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = "ecom.events.v1.InventoryEvent"
R1 = PUBSUB_DEFINITIONS[INVENTORY]["r1"]
ORDER_ID = "  optional string order_id = 7;\n"
R2 = R1.replace(
    ORDER_ID, ORDER_ID + "  // Coupon redeemed, when any.\n  optional string coupon = 8;\n"
)
"""InventoryEvent as a second release would define it: one optional field more."""
COUPON = b"\x42\x05B-001"  # field 8, the coupon "B-001"
STAGES = ("staging", "production")


class TopicsWithSchemas:
    """The emulator's topics, with the PROTOCOL_BUFFER schema settings it cannot hold kept aside.

    Answers the publisher client's calls the infrastructure and the producers'
    ``Publisher`` make; ``publish`` adds the attributes Pub/Sub adds.
    """

    def __init__(self, schemas: FakeSchemaService) -> None:
        self.client = pubsub_v1.PublisherClient()
        self.schemas = schemas
        self.settings: dict[str, pubsub.SchemaSettings] = {}

    def _with_settings(self, topic: Any) -> pubsub.Topic:
        return pubsub.Topic(name=topic.name, schema_settings=self.settings.get(topic.name))

    def create_topic(self, request: Any) -> pubsub.Topic:
        self.settings[request.name] = request.schema_settings
        return self._with_settings(self.client.create_topic(request={"name": request.name}))

    def get_topic(self, request: Any, **options: Any) -> pubsub.Topic:
        return self._with_settings(self.client.get_topic(request=request, **options))

    def update_topic(self, request: Any) -> pubsub.Topic:
        assert list(request.update_mask.paths) == ["schema_settings"]
        self.settings[request.topic.name] = request.topic.schema_settings
        return self._with_settings(request.topic)

    def list_topics(self, request: Any) -> list[pubsub.Topic]:
        return [self._with_settings(t) for t in self.client.list_topics(request=request)]

    def publish(self, topic: str, data: bytes, ordering_key: str = "", **attributes: str) -> Any:
        settings = self.settings[topic]
        listed = self.schemas.list_schema_revisions(pubsub.ListSchemaRevisionsRequest(
            name=settings.schema))  # fmt: skip
        ids = [r.revision_id for r in listed]
        newest = settings.last_revision_id or ids[-1]
        attributes |= {
            "googclient_schemaname": settings.schema,
            "googclient_schemaencoding": pubsub.Encoding(settings.encoding).name,
            "googclient_schemarevisionid": newest,
        }
        return self.client.publish(topic, data, ordering_key=ordering_key, **attributes)


def _event(event_id: str) -> bytes:
    event = inventory_event_pb2.InventoryEvent(
        event_id=event_id,
        product_id="p-1",
        warehouse_id="wh-1",
        quantity_change=5,
        reason=inventory_event_pb2.INVENTORY_REASON_RESTOCK,
    )
    event.event_timestamp.FromJsonString("2026-03-01T10:00:00Z")
    return event.SerializeToString()


def _apply(project: str, schemas: FakeSchemaService, topics: TopicsWithSchemas) -> list[str]:
    settings = Settings(project, "europe-west1", raw_landing=False)
    steps = [s for s in plan.build_plan(settings) if s.kind.startswith("pubsub.")]
    context = Context(
        Clients(schemas=schemas, publisher=topics, subscriber=pubsub_v1.SubscriberClient()),
        settings,
    )
    said: list[str] = []
    apply(context, steps, said.append)
    return said


def _pulled(subscription: str, expected: int) -> list[PubsubRecord]:
    """Pull ``expected`` messages and read them as the pipeline's reader does."""
    subscriber = pubsub_v1.SubscriberClient()
    records: list[PubsubRecord] = []
    for _ in range(10):
        response = subscriber.pull(subscription=subscription, max_messages=10, timeout=30)
        for received in response.received_messages:
            records.append(to_record(PubsubMessage._from_message(received.message), INVENTORY))
        if received_ids := [r.ack_id for r in response.received_messages]:
            subscriber.acknowledge(subscription=subscription, ack_ids=received_ids)
        if len(records) >= expected:
            break
    assert len(records) == expected, records
    return records


def _registry_state() -> dict[str, bytes]:
    files = {p.relative_to(ROOT).as_posix(): p.read_bytes() for p in (ROOT / "registry").iterdir()}
    revisions = ROOT / "generated/ecom_contracts_pb/registry_revisions.py"
    return {**files, "generated/ecom_contracts_pb/registry_revisions.py": revisions.read_bytes()}


def test_each_project_has_its_own_revision_ids_and_every_message_its_registry_revision(
    emulator: PubsubEmulator, monkeypatch: pytest.MonkeyPatch
):
    before = _registry_state()
    schemas = FakeSchemaService()
    topics = TopicsWithSchemas(schemas)
    staging, production = (f"shop-{stage}-{uuid.uuid4().hex[:8]}" for stage in STAGES)
    said = _apply(staging, schemas, topics) + _apply(production, schemas, topics)
    assert not any("registry" in line for line in said), said
    inventory = {p: f"projects/{p}/schemas/inventory-event" for p in (staging, production)}
    topic = {p: f"projects/{p}/topics/inventory-events" for p in (staging, production)}
    (staging_r1,) = (r.revision_id for r in schemas.schemas[inventory[staging]])
    (production_r1,) = (r.revision_id for r in schemas.schemas[inventory[production]])
    assert staging_r1 != production_r1  # one release, two ids

    # Producers in another language (no ecom_* attributes) publish release 1's events.
    topics.publish(topic[staging], _event("staging-old")).result(timeout=30)
    topics.publish(topic[production], _event("production-old")).result(timeout=30)

    # Production moves to release 2 first: its plan commits the new definition and its
    # topic accepts both revisions; producers built from release 2 send the coupon.
    monkeypatch.setitem(PUBSUB_SCHEMAS, "inventory_event.proto", R2)  # the plan's definitions
    said = _apply(production, schemas, topics)
    assert any("inventory-event: commit a new revision (2 of" in line for line in said), said
    first, production_r2 = (r.revision_id for r in schemas.schemas[inventory[production]])
    assert first == production_r1
    assert topics.settings[topic[production]].first_revision_id == production_r1
    topics.publish(topic[production], _event("production-new") + COUPON).result(timeout=30)
    # This project's own publisher says its revision (release 1's package) itself.
    publisher = ecom_contracts.Publisher(topic[production], client=topics)
    (sent,) = publisher.publish([inventory_event_pb2.InventoryEvent.FromString(
        _event("production-publisher"))])  # fmt: skip
    assert sent.ok, sent.error

    # The pipeline, with the package of release 2 (its definitions), reads both projects.
    schemas.reads.clear()  # the infrastructure's reads so far
    resolver = RevisionResolver(
        ecom_contracts.PubsubSchemaDefinitions(schemas),
        definitions={**PUBSUB_DEFINITIONS, INVENTORY: {"r1": R1, "r2": R2}},
    )
    outcomes: dict[str, Outcome] = {}
    attributes: dict[str, dict[str, str]] = {}
    for project, expected in ((staging, 1), (production, 3)):
        for record in _pulled(
            f"projects/{project}/subscriptions/inventory-events-pipeline", expected
        ):
            outcome = process(record, resolver=resolver)
            assert outcome.dead_letter is None, outcome.dead_letter
            (row,) = outcome.rows
            event_id = row.row["event_id"]
            outcomes[event_id], attributes[event_id] = outcome, record.attributes

    revision_ids = {k: v["googclient_schemarevisionid"] for k, v in attributes.items()}
    assert revision_ids == {
        "staging-old": staging_r1,
        "production-old": production_r1,
        "production-new": production_r2,
        "production-publisher": production_r2,
    }
    assert {k: o.revision for k, o in outcomes.items()} == {
        "staging-old": "r1",
        "production-old": "r1",
        "production-new": "r2",
        "production-publisher": "r1",  # its ecom_revision wins over the newest it passed
    }
    assert not any(o.revision_lookup_failed for o in outcomes.values())
    # One read per schema revision; the publisher's message needed none.
    assert sorted(schemas.reads) == sorted(
        [
            f"{inventory[staging]}@{staging_r1}",
            f"{inventory[production]}@{production_r1}",
            f"{inventory[production]}@{production_r2}",
        ]
    )
    assert resolver.lookups == 3
    assert _registry_state() == before  # nothing written to registry/ or the package
