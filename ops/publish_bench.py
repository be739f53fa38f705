"""``python -m ops.publish_bench``: how fast the producers' publisher publishes, on the emulator.

Three ways to publish the same valid order events to one topic of a fresh
Pub/Sub emulator, with the real client library, one after the other:

- ``publish([event])`` once per event: each call waits for its result (a
  batch's ``max_latency`` and a round trip), as a service awaiting every event
  would;
- ``send(event)`` for every event, then one ``flush()``: nothing waits until
  the end, the client library batches;
- ``publish(events)``: one call for all of them.

Prints, per way, the events, the seconds and the events per second. Figures
are from this machine and this emulator, not a service level of Pub/Sub.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from google.protobuf import text_format

from ecom_contracts import Publisher
from ecom_contracts_pb.events.v1 import order_event_pb2
from ops.emulators import EmulatorUnavailableError, PubsubEmulator

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "contract" / "cases" / "order_event" / "valid_three_items.textproto"


def _events(count: int, prefix: str) -> list[order_event_pb2.OrderEvent]:
    sample = text_format.Parse(SAMPLE.read_text(), order_event_pb2.OrderEvent())
    events = []
    for number in range(count):
        event = order_event_pb2.OrderEvent()
        event.CopyFrom(sample)
        event.event_id, event.order_id = f"{prefix}-{number}", f"o-{number}"
        events.append(event)
    return events


def _timed(publish: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    published = publish()
    return published, time.perf_counter() - started


def measure(topic: str, blocking: int, sends: int) -> list[tuple[str, int, int, float]]:
    """Return ``(way, events, published, seconds)`` for each way of publishing to ``topic``."""
    publisher = Publisher(topic, encoding="BINARY")
    publisher.publish(_events(1, "warm-up"))  # the channel, the batch thread

    def one_by_one() -> int:
        return sum(publisher.publish([e])[0].ok for e in _events(blocking, "blocking"))

    def without_waiting() -> int:
        sent = [publisher.send(e) for e in _events(sends, "send")]
        publisher.flush()
        return sum(future.result().ok for future in sent)

    def all_at_once() -> int:
        return sum(r.ok for r in publisher.publish(_events(sends, "batch")))

    figures = []
    for way, count, run in (
        ("publish([event]) per event, blocking", blocking, one_by_one),
        ("send(event) per event, then flush()", sends, without_waiting),
        ("publish(events), one call", sends, all_at_once),
    ):
        published, seconds = _timed(run)
        figures.append((way, count, published, seconds))
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark on a fresh emulator; print the figures. 2 when there is no emulator."""
    parser = argparse.ArgumentParser(prog="python -m ops.publish_bench", description=__doc__)
    parser.add_argument("--blocking", type=int, default=100, help="single-event publish() calls")
    parser.add_argument("--sends", type=int, default=2000, help="events sent without waiting")
    args = parser.parse_args(argv)
    emulator = PubsubEmulator()
    try:
        emulator.start()
    except EmulatorUnavailableError as missing:
        print(f"publish_bench: no Pub/Sub emulator: {missing}", file=sys.stderr)
        return 2
    try:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]

        topic = f"projects/ecom-bench/topics/order-events-{uuid.uuid4().hex[:8]}"
        pubsub_v1.PublisherClient().create_topic(name=topic)
        figures = measure(topic, args.blocking, args.sends)
    finally:
        emulator.stop()
    print(f"{'way':<40} {'events':>7} {'sent':>7} {'seconds':>8} {'events/s':>9}")
    for way, count, published, seconds in figures:
        print(f"{way:<40} {count:>7} {published:>7} {seconds:>8.2f} {count / seconds:>9,.0f}")
    return 0 if all(count == published for _, count, published, _ in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
