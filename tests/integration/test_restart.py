"""Kill the local streaming run mid-way, start it again: every message accounted for exactly once.

Real emulator, real DirectRunner in a child process (``python -m
ops.local_pipeline``, the local-run layer; killed with SIGKILL), real DuckDB
file. Messages are acknowledged only after their rows or their dead letter
are written, so what the killed run had pulled but not finished is delivered
again after the ack deadline, and the idempotent sinks absorb what it had
finished. (Beam's own DirectRunner reader, which ``python -m pipeline.main``
uses, acknowledges at pull time: this test fails with it, losing events.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from ops.emulators import PubsubEmulator
from ops.local_run import expectation
from ops.report import landed_events
from ops.traffic import TrafficGenerator

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "ecom-restart"


def _start(subscription: str, workdir: Path, emulator: PubsubEmulator) -> subprocess.Popen[bytes]:
    log = (workdir / "pipeline.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "ops.local_pipeline",
         "--subscription", subscription,
         "--sink", "duckdb", "--duckdb_path", str(workdir / "w.duckdb"),
         "--dead_letter_prefix", str(workdir / "dead_letters"),
         "--dead_letter_window_seconds", "1",
         # Small pulls: the run proceeds in many bundles, so a kill lands mid-way.
         "--direct_pubsub_batch", "50"],
        cwd=ROOT, env={**os.environ, "PUBSUB_EMULATOR_HOST": emulator.host},
        stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    log.close()  # the child holds its own descriptor
    return process


def _dead_letter_ids(folder: Path) -> set[str]:
    ids: set[str] = set()
    for path in folder.glob("*.ndjson"):
        ids.update(json.loads(line)["messageId"] for line in path.read_text().splitlines())
    return ids


def test_restart_after_kill_accounts_for_every_message_once(
    emulator: PubsubEmulator, tmp_path: Path
):
    topic = f"projects/{PROJECT}/topics/events"
    subscription = f"projects/{PROJECT}/subscriptions/events-pipeline"
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=subscription, topic=topic, ack_deadline_seconds=10)
    messages = list(TrafficGenerator(seed=21).messages(4000))
    expected = expectation(messages)
    ids = [publisher.publish(topic, m.data, **m.attributes) for m in messages]
    message_ids = [future.result() for future in ids]
    bad_ids = {
        message_id
        for message, message_id in zip(messages, message_ids, strict=True)
        if message.event is None
        or message.kind not in {"order", "inventory", "user_activity", "duplicate"}
    }

    first = _start(subscription, tmp_path, emulator)
    deadline = time.monotonic() + 120
    while not _dead_letter_ids(tmp_path / "dead_letters") and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # mid-way: some messages written, others pulled and in flight
    first.send_signal(signal.SIGKILL)
    first.wait()
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        landed_before = len(landed_events(connection))
    assert 0 < landed_before < len(expected.events), "the kill must interrupt the run"

    second = _start(subscription, tmp_path, emulator)
    deadline = time.monotonic() + 180
    while _dead_letter_ids(tmp_path / "dead_letters") < bad_ids and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(15)  # past the ack deadline: redeliveries of the first run's in-flight messages
    second.send_signal(signal.SIGTERM)
    second.wait()

    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        landed = landed_events(connection)
        for table, key in [("fact_order_item", "line_key"), ("fact_inventory", "event_id")]:
            duplicates = connection.execute(
                f"SELECT count(*) - count(DISTINCT {key}) FROM events.{table}"
            ).fetchall()[0][0]
            assert duplicates == 0, table
    assert landed == expected.events, "no event lost, none invented"
    assert _dead_letter_ids(tmp_path / "dead_letters") == bad_ids, "each bad message dead-lettered"
    leftover = subscriber.pull(subscription=subscription, max_messages=100, timeout=15)
    assert list(leftover.received_messages) == [], "everything was acknowledged"
