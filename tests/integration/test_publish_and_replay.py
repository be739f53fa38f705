"""The publisher, its CLI and the dead-letter replay against the real Pub/Sub emulator.

The emulator has no PROTOCOL_BUFFER schemas, so a topic schema rejecting a
payload is simulated by a fake at the client boundary (the publish call),
which is the only place the real service's refusal reaches the code. Raw
landing replay reads its rows from the BigQuery emulator (``local-bigquery``);
that a BigQuery subscription writes them there is not emulated.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import shutil
import uuid
from concurrent import futures
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import pubsub_v1  # type: ignore[attr-defined]
from google.protobuf import json_format
from google.protobuf.message import Message
from google.pubsub_v1 import types as pubsub_types

from ecom_contracts import EncodingError, KeyHeldError, Publisher, PublishRefusedError, encode
from ecom_contracts._cli import main as ecom_contracts_main
from ecom_contracts_pb.events.v1 import order_event_pb2
from ecom_contracts_pb.pubsub.v1 import order_event_pb2 as order_pubsub
from ecom_warehouse.artifacts import RAW_TABLES
from ops import replay
from ops.emulators import BigQueryEmulator, PubsubEmulator
from pipeline.decode import decode
from pipeline.endpoints import bigquery_client
from pipeline.record import PubsubRecord
from pipeline.route import route
from tests.integration.emulator_topics import new_topic, pull

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "contract" / "cases" / "order_event"
PROJECT = "ecom-test"


def _order(event_id: str, order_id: str = "o1") -> order_event_pb2.OrderEvent:
    from google.protobuf import text_format

    event = text_format.Parse(
        (CASES / "valid_three_items.textproto").read_text(), order_event_pb2.OrderEvent()
    )
    event.event_id, event.order_id = event_id, order_id
    return event


def test_publisher_validates_encodes_and_sets_routing_attributes(emulator: PubsubEmulator):
    topic, subscription = new_topic(PROJECT)
    invalid = _order("bad")
    invalid.currency = "euro"
    results = Publisher(topic).publish([_order("e1"), invalid, _order("e2")], encoding="JSON")
    assert [r.error is None for r in results] == [True, False, True]
    assert "string.pattern" in (results[1].error or "")
    messages = pull(subscription, 2)
    assert len(messages) == 2
    for message in messages:
        record = PubsubRecord(message.data, dict(message.attributes))
        assert record.attributes == {
            "ecom_contract": "ecom.events.v1.OrderEvent",
            "ecom_encoding": "JSON",
            "ecom_revision": "r1",
        }
        event = decode(record.data, route(record))
        assert event.event_id in {"e1", "e2"}  # type: ignore[attr-defined]


def test_ordering_keys_keep_each_orders_events_in_order(emulator: PubsubEmulator):
    topic, subscription = new_topic(PROJECT, ordering=True)
    events = [_order(f"e{i}", order_id=f"o{i % 2}") for i in range(6)]
    results = Publisher(topic, ordering=True).publish(events, ordering_key_field="order_id")
    assert all(r.error is None for r in results)
    messages = pull(subscription, 6)
    assert sorted(m.ordering_key for m in messages) == ["o0"] * 3 + ["o1"] * 3
    for key in ("o0", "o1"):
        ids = [
            order_event_pb2.OrderEvent.FromString(m.data).event_id
            for m in messages
            if m.ordering_key == key
        ]
        assert ids == sorted(ids, key=lambda i: int(i[1:]))


class _RejectingClient:
    """Stands in for Pub/Sub at the publish call: a topic schema refusing every second message.

    A fake, because the emulator has no PROTOCOL_BUFFER schemas to refuse anything.
    """

    def __init__(self, settings: pubsub_types.SchemaSettings | None = None) -> None:
        self.calls = 0
        self.reads = 0
        self.published: list[bytes] = []
        self.settings = settings

    def get_topic(self, request: dict[str, str], **options: Any) -> pubsub_types.Topic:
        self.reads += 1
        return pubsub_types.Topic(name=request["topic"], schema_settings=self.settings)

    def publish(
        self, topic: str, data: bytes, ordering_key: str = "", **options: Any
    ) -> futures.Future[str]:
        self.calls += 1
        self.published.append(data)
        future: futures.Future[str] = futures.Future()
        if self.calls % 2 == 0:
            future.set_exception(
                exceptions.InvalidArgument(
                    "Invalid data in message: Message failed schema validation."
                )
            )
        else:
            future.set_result(str(self.calls))
        return future


def test_schema_rejections_are_reported_per_message():
    results = Publisher("projects/p/topics/t", client=_RejectingClient()).publish(
        [_order(f"e{i}") for i in range(4)]
    )
    assert [r.message_id for r in results] == ["1", None, "3", None]
    assert all("failed schema validation" in (r.error or "") for r in results[1::2])
    assert all(isinstance(r.refusal, PublishRefusedError) for r in results[1::2])


def test_publisher_encodes_as_the_topics_schema_settings_require():
    json_topic = pubsub_types.SchemaSettings(
        schema="projects/p/schemas/order-event",
        encoding=pubsub_types.Encoding.JSON,
        first_revision_id="a1",
        last_revision_id="a2",
    )
    client = _RejectingClient(json_topic)
    publisher = Publisher("projects/p/topics/t", client=client)
    assert publisher.encoding == "JSON"
    publisher.publish([_order("e1")])
    assert json.loads(client.published[0])["eventId"] == "e1"  # JSON, not binary
    assert client.reads == 1
    with pytest.raises(EncodingError, match="takes JSON messages"):
        publisher.publish([_order("e2")], encoding="BINARY")  # the settings were read: refused
    assert Publisher("projects/p/topics/t", client=_RejectingClient()).encoding == "BINARY"
    # An explicit encoding reads nothing (publish rights suffice); Pub/Sub judges the payload.
    explicit = _RejectingClient(json_topic)
    assert Publisher("projects/p/topics/t", client=explicit, encoding="BINARY").encoding == "BINARY"
    assert explicit.reads == 0


def test_a_refusal_by_pubsub_holds_its_ordering_key_until_resumed(emulator: PubsubEmulator):
    # The real client library against the emulator: the topic disappears after the
    # publisher read its settings, so the batch fails and the library pauses the key.
    topic, _ = new_topic(PROJECT, ordering=True)
    publisher = Publisher(topic, ordering=True)
    assert publisher.encoding == "BINARY"  # no schema on the emulator's topics
    admin = pubsub_v1.PublisherClient()
    admin.delete_topic(topic=topic)
    events = [_order(f"e{i}", order_id="o1") for i in range(3)]
    results = publisher.publish(events, ordering_key_field="order_id")
    assert [r.message_id for r in results] == [None, None, None]
    # One publish request, refused as a whole: each message says so.
    assert all("NotFound" in (r.error or "") for r in results)
    assert all(isinstance(r.refusal, PublishRefusedError) for r in results)
    admin.create_topic(name=topic)
    # Held until the caller resumes it, even now that the topic is back.
    assert set(publisher.held_keys) == {"o1"}
    held = publisher.publish([_order("e8", order_id="o1")], ordering_key_field="order_id")
    assert isinstance(held[0].refusal, KeyHeldError)
    assert "ordering key 'o1' is held" in (held[0].error or "")
    publisher.resume("o1")
    again = publisher.publish([_order("e9", order_id="o1")], ordering_key_field="order_id")
    assert again[0].error is None  # resumed: the key takes messages again
    assert publisher.held_keys == {}


def test_publish_cli_is_all_or_nothing_by_default(
    emulator: PubsubEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    topic, subscription = new_topic(PROJECT)
    lines = [json_format.MessageToJson(_order(f"e{i}"), indent=None) for i in range(3)]
    lines.insert(1, '{"eventId": "x", "notAField": 1}')
    source = tmp_path / "events.ndjson"
    source.write_text("\n".join(lines) + "\n")
    argv = ["publish", "--topic", topic, "--contract", "order-event", str(source)]

    # One refused event: nothing is sent, so publishing the fixed file sends each event once.
    code = ecom_contracts_main(argv)
    out = capsys.readouterr()
    assert code == 1
    assert out.out == (
        f"{source}:2: unknown_fields: field(s) notAField are not in ecom.events.v1.OrderEvent "
        "r1: a newer revision (upgrade ecom-contracts), another contract, or a misspelt name\n"
    )
    assert f"nothing published to {topic}: 1 of 4 event(s) refused" in out.err
    assert "--skip-invalid" in out.err
    assert pull(subscription, 0) == []

    dry = ecom_contracts_main([*argv, "--dry-run", "--skip-invalid"])
    out = capsys.readouterr()
    assert dry == 1
    assert f"dry run: 3 of 4 event(s) would be published to {topic}; 1 refused" in out.err
    assert pull(subscription, 0) == []

    code = ecom_contracts_main([*argv, "--skip-invalid"])
    out = capsys.readouterr()
    assert code == 1
    assert "published 3 of 4 events" in out.err
    assert f"{source}:2: unknown_fields: " in out.out
    assert len(pull(subscription, 3)) == 3

    source.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    assert ecom_contracts_main([*argv, "--dry-run"]) == 0
    assert "dry run: 3 of 3 event(s) would be published" in capsys.readouterr().err
    assert ecom_contracts_main(argv) == 0
    assert "published 3 of 3 events" in capsys.readouterr().err
    assert len(pull(subscription, 3)) == 3


def test_publish_cli_to_a_topic_that_does_not_exist_is_one_line(
    emulator: PubsubEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    source = tmp_path / "events.ndjson"
    source.write_text(json_format.MessageToJson(_order("e1"), indent=None) + "\n")
    topic = f"projects/{PROJECT}/topics/never-created"
    with pytest.raises(SystemExit) as exit_info:
        ecom_contracts_main(["publish", "--topic", topic, "--contract", "order-event", str(source)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == f"ecom-contracts publish: error: argument --topic: {topic} does not exist\n"


def test_replay_republishes_dead_letters_to_their_topics(
    emulator: PubsubEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    folder = tmp_path / "dead_letters"
    folder.mkdir()
    shutil.copy(
        ROOT / "tests/golden/expected/dead_letters.ndjson", folder / "dead-letters-1.ndjson"
    )
    before = (folder / "dead-letters-1.ndjson").read_bytes()
    letters = [json.loads(line) for line in before.decode().splitlines()]
    client = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    subscriptions = {}
    for family in ("order-events", "inventory-events", "user-activity-events"):
        client.create_topic(name=f"projects/{PROJECT}/topics/{family}")
        subscriptions[family] = f"projects/{PROJECT}/subscriptions/{family}-replay"
        subscriber.create_subscription(
            name=subscriptions[family], topic=f"projects/{PROJECT}/topics/{family}"
        )

    code = replay.main(["--source", str(folder), "--project", PROJECT, "--reason", "invalid"])
    out = capsys.readouterr().out
    invalid = [d for d in letters if d["reason"] == "REASON_INVALID"]
    assert code == 0
    assert f"re-published {len(invalid)}; failed 0" in out
    assert f"skipped {len(letters) - len(invalid)}: filtered out" in out
    received = [m for s in subscriptions.values() for m in pull(s, 1)]
    got = sorted(
        (base64.b64encode(m.data).decode(), sorted(m.attributes.items())) for m in received
    )
    want = sorted((d.get("data", ""), sorted(d["attributes"].items())) for d in invalid)
    assert got == want
    assert (folder / "dead-letters-1.ndjson").read_bytes() == before  # never changed nor deleted


def test_replay_skips_records_of_no_known_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    folder = tmp_path / "dl"
    folder.mkdir()
    shutil.copy(ROOT / "tests/golden/expected/dead_letters.ndjson", folder / "x.ndjson")
    code = replay.main(
        ["--source", str(folder), "--project", PROJECT, "--reason", "unknown_event", "--dry-run"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "no known contract (use --topic)" in out
    assert "would re-publish 1; failed 0" in out  # the one whose contract is known


def test_encode_json_follows_the_pubsub_schema_shape():
    data, attributes = encode(_order("e1"), "JSON")
    assert json.loads(data)["eventTimestamp"] == {"seconds": "1764590400"}
    assert attributes["ecom_encoding"] == "JSON"


def _bigquery_values(message: Message) -> dict[str, Any]:
    """The columns a topic-schema BigQuery subscription writes for ``message`` (Pub/Sub's mapping:
    enums as numbers, nested messages as records, absent fields as NULL)."""
    row: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.message_type is not None:
            if field.is_repeated:
                row[field.name] = [_bigquery_values(item) for item in value]
            else:
                row[field.name] = _bigquery_values(value) if message.HasField(field.name) else None
        elif field.is_repeated:
            row[field.name] = list(value)
        elif field.has_presence and not message.HasField(field.name):
            row[field.name] = None
        else:
            row[field.name] = value
    return row


def _land_raw(project: str, rows: list[dict[str, Any]]) -> str:
    """Create the raw landing table on the BigQuery emulator and write ``rows`` as Pub/Sub would.

    How a BigQuery subscription itself writes them is not emulated (the Pub/Sub
    emulator accepts such subscriptions and writes nothing): the rows take its
    documented shape, the table is the generated one.
    """
    client = bigquery_client(project)
    client.create_dataset("events_raw", exists_ok=True)
    ddl = RAW_TABLES["raw_order_events"]["ddl"].replace("`events.", f"`{project}.events_raw.")
    client.query(ddl).result()
    table = f"{project}.events_raw.raw_order_events"
    as_json = [
        {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in row.items()}
        for row in rows
    ]
    assert client.insert_rows_json(table, as_json) == []
    return table


def test_replay_republishes_raw_landed_messages_for_a_time_range(
    emulator: PubsubEmulator,
    bigquery_emulator: BigQueryEmulator,
    bigquery_project: str,
    capsys: pytest.CaptureFixture[str],
):
    topic = f"projects/{PROJECT}/topics/order-events"
    with contextlib.suppress(exceptions.AlreadyExists):
        pubsub_v1.PublisherClient().create_topic(name=topic)
    subscription = f"projects/{PROJECT}/subscriptions/raw-replay-{uuid.uuid4().hex[:6]}"
    pubsub_v1.SubscriberClient().create_subscription(name=subscription, topic=topic)
    events = [_order("e1"), _order("e2", order_id="o9"), _order("e3", order_id="o8")]
    shaped = [order_pubsub.OrderEvent.FromString(e.SerializeToString()) for e in events]
    attributes = {
        "ecom_contract": "ecom.events.v1.OrderEvent",
        "googclient_schemaname": "projects/p/schemas/order-event",
        "source": "checkout",
    }
    published = [
        dt.datetime(2025, 12, 1, 10, 0, tzinfo=dt.UTC),
        dt.datetime(2025, 12, 1, 23, 59, 59, tzinfo=dt.UTC),
        dt.datetime(2025, 12, 2, 0, 0, 0, tzinfo=dt.UTC),  # the end of the range: left out
    ]
    rows = [
        {
            "subscription_name": "projects/p/subscriptions/order-events-raw",
            "message_id": f"m{i}",
            "publish_time": published[i],
            "attributes": json.dumps(attributes),
            **_bigquery_values(message),
        }
        for i, message in enumerate(shaped)
    ]
    table = _land_raw(bigquery_project, rows)
    code = replay.main(
        ["--source", f"bq://{table}", "--project", PROJECT,
         "--since", "2025-12-01", "--until", "2025-12-02T00:00:00"],
    )  # fmt: skip
    assert code == 0
    assert f"re-published 2 to {topic}; failed 0; unreadable rows 0" in capsys.readouterr().out
    received = pull(subscription, 2)
    assert sorted(m.data for m in received) == sorted(e.SerializeToString() for e in events[:2])
    for message in received:
        assert "googclient_schemaname" not in message.attributes
        assert message.attributes["source"] == "checkout"


def test_replay_restores_the_ordering_key_landed_in_the_attributes_json(
    emulator: PubsubEmulator,
    bigquery_emulator: BigQueryEmulator,
    bigquery_project: str,
    capsys: pytest.CaptureFixture[str],
):
    # A BigQuery subscription with write_metadata has no ordering-key column: Pub/Sub puts the
    # key into the attributes JSON beside the message's attributes. Replay must publish it as
    # the message's ordering key again (in publish order), not as one more attribute.
    topic = f"projects/{PROJECT}/topics/order-events"
    with contextlib.suppress(exceptions.AlreadyExists):
        pubsub_v1.PublisherClient().create_topic(name=topic)
    subscription = f"projects/{PROJECT}/subscriptions/raw-ordered-{uuid.uuid4().hex[:6]}"
    pubsub_v1.SubscriberClient().create_subscription(
        request={"name": subscription, "topic": topic, "enable_message_ordering": True}
    )
    landed = [("e1", "o1"), ("e2", "o2"), ("e3", "o1"), ("e4", "")]
    rows = []
    for minute, (event_id, key) in enumerate(landed):
        message = order_pubsub.OrderEvent.FromString(
            _order(event_id, order_id=key or "o9").SerializeToString()
        )
        attributes = {"ecom_contract": "ecom.events.v1.OrderEvent", "source": "checkout"}
        if key:
            attributes["ordering_key"] = key
        rows.append(
            {
                "subscription_name": "projects/p/subscriptions/order-events-raw",
                "message_id": f"m{minute}",
                "publish_time": dt.datetime(2025, 12, 1, 10, minute, tzinfo=dt.UTC),
                "attributes": json.dumps(attributes),
                **_bigquery_values(message),
            }
        )
    table = _land_raw(bigquery_project, rows)
    code = replay.main(["--source", f"bq://{table}", "--project", PROJECT])
    assert code == 0, capsys.readouterr().err
    received = pull(subscription, len(landed))
    by_event = {order_event_pb2.OrderEvent.FromString(m.data).event_id: m for m in received}
    assert {event_id: m.ordering_key for event_id, m in by_event.items()} == dict(landed)
    for message in received:
        assert "ordering_key" not in message.attributes
        assert message.attributes["source"] == "checkout"
    pulled = [order_event_pb2.OrderEvent.FromString(m.data).event_id for m in received]
    assert [e for e in pulled if e in ("e1", "e3")] == ["e1", "e3"]  # a key's order is kept


def test_replay_time_filters_take_dates_and_zones(capsys: pytest.CaptureFixture[str]):
    assert replay._time("2025-12-01") == dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
    assert replay._time("2025-12-01T10:00:00+01:00") == dt.datetime(2025, 12, 1, 9, tzinfo=dt.UTC)
    with pytest.raises(SystemExit) as exit_info:
        replay.main(["--source", "x", "--project", "p", "--since", "yesterday"])
    assert exit_info.value.code == 2
    assert "'yesterday' is not a date or time" in capsys.readouterr().err


class _CountingClient(_RejectingClient):
    """Publishes everything (a fake): counts messages per flush to show the paging."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 1  # odd from the start: every publish succeeds below

    def publish(
        self, topic: str, data: bytes, ordering_key: str = "", **attributes: str
    ) -> futures.Future[str]:
        future: futures.Future[str] = futures.Future()
        self.published.append(data)
        future.set_result(str(len(self.published)))
        return future


def test_replay_streams_dead_letters_page_by_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    folder = tmp_path / "dl"
    folder.mkdir()
    shutil.copy(ROOT / "tests/golden/expected/dead_letters.ndjson", folder / "x.ndjson")
    letters = [json.loads(line) for line in (folder / "x.ndjson").read_text().splitlines()]
    invalid = [d for d in letters if d["reason"] == "REASON_INVALID"]
    pages: list[int] = []
    original = replay.Republisher.flush

    def counting_flush(self: replay.Republisher, topic: str) -> None:
        pages.append(len(self.pending.get(topic, [])))
        original(self, topic)

    monkeypatch.setattr(replay, "PAGE_ROWS", 2)
    monkeypatch.setattr(replay.Republisher, "flush", counting_flush)
    client = _CountingClient()
    code = replay.main(
        ["--source", str(folder), "--project", PROJECT, "--reason", "invalid"], client=client
    )
    assert code == 0
    assert len(client.published) == len(invalid) > 2
    assert max(pages) <= 2  # never more than a page held
    assert f"re-published {len(invalid)}; failed 0" in capsys.readouterr().out


def test_replay_of_an_empty_source_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert replay.main(["--source", str(tmp_path), "--project", PROJECT]) == 2
    assert "no dead-letter files (*.ndjson) under" in capsys.readouterr().err


def test_check_compatibility_reads_the_topic(
    emulator: PubsubEmulator, capsys: pytest.CaptureFixture[str]
):
    topic, _ = new_topic(PROJECT)
    argv = ["check-compatibility", "--contract", "order-event", "--topic"]
    assert ecom_contracts_main([*argv, topic]) == 0
    assert capsys.readouterr().out.startswith(f"accepted: {topic} has no schema")
    missing = f"projects/{PROJECT}/topics/never-created"
    with pytest.raises(SystemExit) as exit_info:
        ecom_contracts_main([*argv, missing])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        f"ecom-contracts check-compatibility: error: argument --topic: {missing} does not exist\n"
    )
