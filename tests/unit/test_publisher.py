"""The publisher's checks before sending, and the recording publisher producers test with.

The topic bound to its contract (by its schema, its id, or ``contract=``),
ordering keys that are scalar and not personal data (the PII fields the
catalogue carries from the column lineage), and :class:`RecordingPublisher`:
the same API and refusals as :class:`Publisher`, recorded instead of sent.
No Pub/Sub here: the emulator tests are in ``tests/integration``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions
from google.protobuf import text_format
from google.pubsub_v1 import types as pubsub

import ecom_contracts
from ecom_contracts import (
    KeyHeldError,
    OrderingKeyError,
    PublishRefusedError,
    PublishTimeoutError,
    RecordingPublisher,
    TopicMismatchError,
)
from ecom_contracts._cli import main as ecom_contracts_main
from ecom_contracts_pb.events.v1 import inventory_event_pb2, order_event_pb2

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "contract" / "cases"


def _order(event_id: str = "e1", order_id: str = "o-1") -> order_event_pb2.OrderEvent:
    event = text_format.Parse(
        (CASES / "order_event" / "valid_three_items.textproto").read_text(),
        order_event_pb2.OrderEvent(),
    )
    event.event_id, event.order_id = event_id, order_id
    return event


def _inventory() -> inventory_event_pb2.InventoryEvent:
    return text_format.Parse(
        (CASES / "inventory_event" / "valid_restock.textproto").read_text(),
        inventory_event_pb2.InventoryEvent(),
    )


def test_the_catalogue_carries_the_event_fields_the_warehouse_tags_pii():
    pii = {c.schema_id: c.pii_fields for c in ecom_contracts.CONTRACTS}
    assert pii == {
        "inventory-event": (),
        "order-event": (
            "customer.email",
            "customer.name",
            "shipping_address.postal_code",
            "shipping_address.street",
        ),
        "user-activity-event": ("search_query",),
    }


@pytest.mark.parametrize(
    ("contract", "field", "refused"),
    [
        ("order-event", "customer", "is personal data (the warehouse tags customer.email"),
        ("order-event", "shipping_address", "is personal data"),
        ("user-activity-event", "search_query", "is personal data"),
        ("order-event", "items", "is a repeated field"),
        ("order-event", "event_timestamp", "is a message field"),
        ("order-event", "customer_id", "has no field 'customer_id'"),
    ],
)
def test_an_ordering_key_is_a_scalar_field_that_is_not_personal_data(
    contract: str, field: str, refused: str
):
    with pytest.raises(OrderingKeyError, match=refused.replace("(", r"\(")):
        ecom_contracts.check_ordering_key(contract, field)
    publisher = RecordingPublisher("projects/p/topics/t", ordering=True)
    event = _order() if contract == "order-event" else None
    if event is not None:
        with pytest.raises(OrderingKeyError):
            publisher.publish([event], ordering_key_field=field)
        assert publisher.sent == []


@pytest.mark.parametrize(
    ("contract", "field"),
    [("order-event", "order_id"), ("order-event", "status"), ("user-activity-event", "session_id")],
)
def test_scalar_fields_without_personal_data_order_messages(contract: str, field: str):
    ecom_contracts.check_ordering_key(contract, field)


def test_the_command_refuses_a_message_or_pii_field_as_ordering_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    source = tmp_path / "orders.ndjson"
    source.write_text("{}\n")
    with pytest.raises(SystemExit) as exited:
        ecom_contracts_main(
            ["publish", "--topic", "projects/p/topics/order-events", "--contract",
             "order-event", "--ordering-key", "customer", str(source)]
        )  # fmt: skip
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("ecom-contracts publish: error: argument --ordering-key: ")
    assert "personal data" in err


def test_a_topic_named_after_a_contract_takes_that_contract_only():
    publisher = RecordingPublisher("projects/p/topics/order-events")
    assert publisher.carries is ecom_contracts.contract("order-event")
    with pytest.raises(TopicMismatchError, match=r"OrderEvent \(by its id"):
        publisher.publish([_order(), _inventory()])
    with pytest.raises(TopicMismatchError, match="topics/inventory-events"):
        publisher.send(_inventory())
    assert publisher.sent == []  # refused before anything was sent
    assert publisher.publish([_order()])[0].ok


def test_contract_binds_a_topic_named_otherwise_and_cannot_contradict_one():
    renamed = RecordingPublisher("projects/p/topics/shop-orders", contract="order-event")
    with pytest.raises(TopicMismatchError):
        renamed.publish([_inventory()])
    assert renamed.publish([_order()])[0].ok
    contradicting = RecordingPublisher("projects/p/topics/order-events", contract="inventory-event")
    with pytest.raises(TopicMismatchError):
        contradicting.publish([_inventory()])
    # A topic no contract names, without contract=: nothing to bind it by.
    assert RecordingPublisher("projects/p/topics/t").carries is None


class _SchemaTopic:
    """Answers ``get_topic`` with a topic whose schema is ``schema``; publishes nothing."""

    def __init__(self, schema: str) -> None:
        self.schema = schema

    def get_topic(self, request: dict[str, str], **options: Any) -> pubsub.Topic:
        settings = pubsub.SchemaSettings(schema=self.schema, encoding=pubsub.Encoding.BINARY)
        return pubsub.Topic(name=request["topic"], schema_settings=settings)

    def publish(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("nothing is sent to a topic of another contract")


def test_a_topics_schema_says_which_contract_it_carries():
    publisher = ecom_contracts.Publisher(
        "projects/p/topics/t", client=_SchemaTopic("projects/p/schemas/inventory-event")
    )
    assert publisher.carries is ecom_contracts.contract("inventory-event")
    with pytest.raises(TopicMismatchError, match="by its schema projects/p/schemas/inventory"):
        publisher.publish([_order()])
    assert ecom_contracts.topic_contract("projects/p/topics/x") is None


def test_the_recording_publisher_records_what_pubsub_would_receive():
    publisher = RecordingPublisher("projects/p/topics/order-events", encoding="JSON")
    assert isinstance(publisher, ecom_contracts.Publisher)
    results = publisher.publish([_order("e1"), _order("e2")])
    assert [r.message_id for r in results] == ["1", "2"]
    future = publisher.send(_order("e3"))
    assert future.result().ok
    assert publisher.flush() == 0
    assert [e.event_id for e in publisher.events] == ["e1", "e2", "e3"]  # type: ignore[attr-defined]
    (first, *_) = publisher.sent
    assert first.attributes == {
        "ecom_contract": "ecom.events.v1.OrderEvent",
        "ecom_encoding": "JSON",
        "ecom_revision": "r1",
    }
    assert first.data.startswith(b"{")


def test_the_recording_publisher_refuses_as_the_publisher_does():
    publisher = RecordingPublisher("projects/p/topics/order-events", ordering=True)
    invalid = _order("bad", "o-77")
    invalid.currency = "euro"
    results = publisher.publish(
        [invalid, _order("paid", "o-77"), _order("other", "o-78")], ordering_key_field="order_id"
    )
    assert isinstance(results[0].refusal, ecom_contracts.InvalidEventError)
    assert isinstance(results[1].refusal, KeyHeldError)
    assert results[2].ok
    assert list(publisher.held_keys) == ["o-77"]
    publisher.resume("o-77")
    assert publisher.held_keys == {}
    publisher.fail_next(exceptions.InvalidArgument("Message failed schema validation."))
    publisher.fail_next(exceptions.DeadlineExceeded("no answer"))
    refused, timed_out = publisher.publish([_order("x1", "o-1"), _order("x2", "o-2")],
                                           ordering_key_field="order_id")  # fmt: skip
    assert isinstance(refused.refusal, PublishRefusedError)
    assert "failed schema validation" in (refused.error or "")
    assert isinstance(timed_out.refusal, PublishTimeoutError)
    assert set(publisher.held_keys) == {"o-1", "o-2"}
    assert [e.event_id for e in publisher.events] == ["other"]  # type: ignore[attr-defined]


def test_ordering_keys_need_a_publisher_with_ordering():
    with pytest.raises(ValueError, match="ordering=True"):
        RecordingPublisher("projects/p/topics/order-events").send(
            _order(), ordering_key_field="order_id"
        )


def test_closing_flushes_and_refuses_later_sends():
    with RecordingPublisher("projects/p/topics/order-events") as publisher:
        sent = publisher.send(_order())
    assert sent.result().ok
    assert publisher.close() == 0  # closing again: nothing left
    with pytest.raises(RuntimeError, match="closed"):
        publisher.send(_order("e2"))
