"""The publisher as a busy service runs it, with the real client library on the Pub/Sub emulator.

Least privilege (publish rights only), bounded waits (Pub/Sub unreachable),
publishing without waiting (``send``/``flush``), ordering that holds on a
refusal of any kind, and the topic bound to its contract in the command.

The emulator answers no IAM: a publisher holding ``roles/pubsub.publisher``
alone is the real client on the emulator with its ``get_topic`` refused as
Pub/Sub refuses it (``PermissionDenied``) — a fake for IAM, nothing else.
Pub/Sub unreachable is a loopback port nothing listens on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import pubsub_v1  # type: ignore[attr-defined]
from google.protobuf import json_format, text_format

from ecom_contracts import (
    KeyHeldError,
    Publisher,
    PublishResult,
    PublishTimeoutError,
    SchemaLookupError,
    default_retry,
)
from ecom_contracts._cli import main as ecom_contracts_main
from ecom_contracts_pb.events.v1 import order_event_pb2
from ops.emulators import PubsubEmulator
from ops.emulators.process import free_port
from tests.integration.emulator_topics import new_topic, pull

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "contract" / "cases" / "order_event"
PROJECT = "ecom-service"


def _order(
    event_id: str, order_id: str = "o1", status: int = order_event_pb2.ORDER_STATUS_PLACED
) -> order_event_pb2.OrderEvent:
    event = text_format.Parse(
        (CASES / "valid_three_items.textproto").read_text(), order_event_pb2.OrderEvent()
    )
    event.event_id, event.order_id, event.status = event_id, order_id, status  # type: ignore[assignment]
    return event


def _event_ids(messages: list[Any]) -> list[str]:
    return [order_event_pb2.OrderEvent.FromString(m.data).event_id for m in messages]


class _PublishRightsOnly:
    """The real client on the emulator as ``roles/pubsub.publisher`` alone sees Pub/Sub.

    A fake for IAM only, because no emulator answers IAM: reading a topic
    (``pubsub.topics.get``) is refused as Pub/Sub refuses it; every other call
    is the real client's.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self.reads = 0

    def get_topic(self, *args: Any, **kwargs: Any) -> Any:
        self.reads += 1
        raise exceptions.PermissionDenied("User not authorized to perform this action.")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_an_explicit_encoding_publishes_with_publish_rights_alone(emulator: PubsubEmulator):
    topic, subscription = new_topic(PROJECT)
    client = _PublishRightsOnly(pubsub_v1.PublisherClient())
    publisher = Publisher(topic, client=client, encoding="BINARY")
    results = publisher.publish([_order("e1"), _order("e2")])
    assert [r.ok for r in results] == [True, True], results
    assert client.reads == 0  # no pubsub.topics.get needed
    assert sorted(_event_ids(pull(subscription, 2))) == ["e1", "e2"]


def test_reading_the_settings_degrades_with_one_warning_where_denied(
    emulator: PubsubEmulator, caplog: pytest.LogCaptureFixture
):
    topic, subscription = new_topic(PROJECT)
    client = _PublishRightsOnly(pubsub_v1.PublisherClient())
    publisher = Publisher(topic, client=client)
    with caplog.at_level(logging.WARNING, logger="ecom_contracts.publisher"):
        first = publisher.publish([_order("e1")])
        second = publisher.publish([_order("e2")])
    assert first[0].ok
    assert second[0].ok
    assert publisher.encoding == "BINARY"
    assert publisher.settings is None
    assert client.reads == 1
    (warning,) = caplog.records
    assert "pubsub.topics.get" in warning.getMessage()
    assert "roles/pubsub.publisher" in warning.getMessage()
    assert sorted(_event_ids(pull(subscription, 2))) == ["e1", "e2"]


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Name a loopback port nothing listens on as the Pub/Sub endpoint.

    Yields an event set at teardown, which ends the retries of :func:`_ending_retry`: with
    ordering the client library retries without end, and its backoff draws on the global
    ``random``, which must not change under other tests (hypothesis checks it does not).
    """
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    ended = threading.Event()
    yield ended
    ended.set()
    time.sleep(3)  # the last backoff (at most 1 s) and the 2 s timeouts' retries run out


def _ending_retry(ended: threading.Event, timeout: float) -> Any:
    """Return the default retry, which stops once ``ended`` is set, backing off at most 1 s."""
    retryable = default_retry(timeout)._predicate
    return (
        default_retry(timeout)
        .with_predicate(lambda error: not ended.is_set() and retryable(error))
        .with_delay(maximum=1.0)
    )


def test_pubsub_unreachable_is_a_timeout_per_message_not_a_hang(unreachable: threading.Event):
    publisher = Publisher("projects/p/topics/order-events", encoding="BINARY", timeout=2.0)
    started = time.monotonic()
    results = publisher.publish([_order("e1"), _order("e2")])
    waited = time.monotonic() - started
    assert [r.ok for r in results] == [False, False]
    assert all(isinstance(r.refusal, PublishTimeoutError) for r in results), results
    assert "not confirmed within 2 s" in (results[0].error or "")
    assert waited < 30, f"bounded by the timeout (2 s), not the client's 600 s: {waited:.0f} s"
    # Without waiting: the future still completes, with the timeout as its result.
    future = publisher.send(_order("e3"))
    assert isinstance(future.result(timeout=30).refusal, PublishTimeoutError)
    assert publisher.flush(timeout=30) == 0


def test_pubsub_unreachable_for_the_settings_read_is_a_bounded_lookup_error(
    unreachable: threading.Event,
):
    publisher = Publisher("projects/p/topics/order-events", timeout=2.0)
    started = time.monotonic()
    with pytest.raises(SchemaLookupError, match="pass the encoding explicitly"):
        publisher.send(_order("e1"))
    assert time.monotonic() - started < 30


def test_a_timeout_holds_its_ordering_key(unreachable: threading.Event):
    # With ordering, the client library retries without end (to keep the order); the
    # publisher's timeout still ends the wait, and holds the key.
    publisher = Publisher(
        "projects/p/topics/order-events",
        encoding="BINARY",
        ordering=True,
        timeout=1.0,
        retry=_ending_retry(unreachable, 1.0),
    )
    sent = [
        publisher.send(_order("e1", "o-77"), ordering_key_field="order_id"),
        publisher.send(_order("e2", "o-77"), ordering_key_field="order_id"),
    ]
    assert publisher.flush(timeout=30) == 0
    assert all(isinstance(f.result().refusal, PublishTimeoutError) for f in sent)
    later = publisher.send(_order("e3", "o-77"), ordering_key_field="order_id").result()
    assert isinstance(later.refusal, KeyHeldError)
    assert "PublishTimeoutError" not in (later.error or "")
    assert "not confirmed within 1 s" in (later.error or "")
    assert set(publisher.held_keys) == {"o-77"}


def test_send_does_not_wait_and_flush_collects_every_result(emulator: PubsubEmulator):
    topic, subscription = new_topic(PROJECT)
    # A batch waits up to a second to fill: sending must not wait for it.
    publisher = Publisher(topic, encoding="BINARY", max_latency=1.0)
    called: list[PublishResult] = []
    sent = [publisher.send(_order(f"e{i}"), callback=called.append) for i in range(20)]
    assert not any(future.done() for future in sent)
    assert publisher.flush(timeout=30) == 0
    assert all(future.result().ok for future in sent)
    late = publisher.send(_order("e20"))
    assert publisher.close(timeout=30) == 0  # flushes, then stops the client it made
    assert late.result().ok
    assert sorted(r.index for r in called) == list(range(20))
    assert len({r.message_id for r in called}) == 20
    assert len(pull(subscription, 21)) == 21


def test_a_refused_event_holds_the_later_events_of_its_order(emulator: PubsubEmulator):
    topic, subscription = new_topic(PROJECT, ordering=True)
    publisher = Publisher(topic, ordering=True)
    placed = _order("placed", "o-77")
    placed.currency = "euro"  # breaks the contract's rules
    paid = _order("paid", "o-77", order_event_pb2.ORDER_STATUS_PAID)
    other = _order("other", "o-78")
    results = publisher.publish([placed, paid, other], ordering_key_field="order_id")
    assert [r.ok for r in results] == [False, False, True]
    assert "string.pattern" in (results[0].error or "")
    assert isinstance(results[1].refusal, KeyHeldError)
    assert results[1].ordering_key == "o-77"
    assert _event_ids(pull(subscription, 1)) == ["other"]  # PAID was not sent before PLACED
    # Still held, by send too, until the caller resumes the key; then in order again.
    assert isinstance(
        publisher.send(paid, ordering_key_field="order_id").result().refusal, KeyHeldError
    )
    publisher.resume("o-77")
    placed.currency = "EUR"
    again = publisher.publish([placed, paid], ordering_key_field="order_id")
    assert [r.ok for r in again] == [True, True]
    assert _event_ids(pull(subscription, 2)) == ["placed", "paid"]


def test_the_command_refuses_a_topic_of_another_contract(
    emulator: PubsubEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    topic, subscription = new_topic(PROJECT, topic_id="order-events")
    source = tmp_path / "inventory.ndjson"
    source.write_text(
        '{"eventId": "s-1", "eventTimestamp": "2025-12-01T10:00:00Z", "productId": "p-1", '
        '"warehouseId": "wh-1", "quantityChange": 5, "reason": "INVENTORY_REASON_RESTOCK"}\n'
    )
    with pytest.raises(SystemExit) as exited:
        ecom_contracts_main(
            ["publish", "--topic", topic, "--contract", "inventory-event", str(source)]
        )
    assert exited.value.code == 2
    err = capsys.readouterr().err
    (said,) = [line for line in err.splitlines() if "error" in line]
    assert said.startswith("ecom-contracts publish: error: argument --topic: ")
    assert "carries ecom.events.v1.OrderEvent" in said
    assert "inventory-events" in said
    assert pull(subscription, 0) == []
    # The same file to the inventory topic goes out.
    inventory, _ = new_topic(PROJECT, topic_id="inventory-events")
    assert (
        ecom_contracts_main(
            ["publish", "--topic", inventory, "--contract", "inventory-event", str(source)]
        )
        == 0
    )


def test_the_command_publishes_with_an_explicit_encoding_and_a_timeout(
    emulator: PubsubEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    topic, subscription = new_topic(PROJECT, ordering=True, topic_id="order-events")
    source = tmp_path / "orders.ndjson"
    source.write_text(
        "".join(json_format.MessageToJson(_order(f"e{i}", "o-1"), indent=None) + "\n"
                for i in range(3))
    )  # fmt: skip
    code = ecom_contracts_main(
        ["publish", "--topic", topic, "--contract", "order-event", "--encoding", "BINARY",
         "--ordering-key", "order_id", "--timeout", "20", str(source)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr()
    assert _event_ids(pull(subscription, 3)) == ["e0", "e1", "e2"]
