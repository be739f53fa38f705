"""``pipeline.main`` reads a subscription on the DirectRunner without the local-run layer.

The pipeline's own entry point still streams locally, the local-run layer
not even imported: Beam's DirectRunner reader (ten messages per pull,
acknowledged as they are pulled) feeds the same graph. ``python -m
ops.local_pipeline`` acknowledges after writing instead
(``tests/integration/test_restart.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from ops.emulators import PubsubEmulator
from ops.traffic import TrafficGenerator

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "ecom-direct-read"
READ = """\
import json, sys, time
import duckdb
from ops.report import landed_events
from pipeline.main import run
from pipeline.warehouse import create_tables

subscription, warehouse, letters, expected = sys.argv[1:5]
with duckdb.connect(warehouse) as connection:
    create_tables(connection)
streaming = run([
    "--runner", "DirectRunner",
    "--subscription", f"ecom.events.v1.InventoryEvent={subscription}",
    "--sink", "duckdb", "--duckdb_path", warehouse, "--dead_letter_prefix", letters,
])
deadline = time.monotonic() + 120
landed = set()
try:
    while time.monotonic() < deadline and len(landed) < int(expected):
        time.sleep(0.5)
        with duckdb.connect(warehouse) as connection:
            landed = landed_events(connection)
finally:
    streaming.cancel()
local = sorted(name for name in sys.modules if name.startswith("ops.local_pipeline"))
print(json.dumps({"landed": sorted(landed), "local_layer_modules": local}))
"""


def test_pipeline_main_streams_a_subscription_on_the_direct_runner(
    emulator: PubsubEmulator, tmp_path: Path
):
    topic = f"projects/{PROJECT}/topics/inventory-events"
    subscription = f"projects/{PROJECT}/subscriptions/inventory-events-pipeline"
    publisher = pubsub_v1.PublisherClient()
    pubsub_v1.SubscriberClient().create_subscription(
        name=subscription, topic=publisher.create_topic(name=topic).name
    )
    generator = TrafficGenerator(seed=5, bad_share=0, json_share=0)
    stock = [m for m in generator.messages(400) if m.kind == "inventory"][:30]
    for message in stock:
        publisher.publish(topic, message.data, **message.attributes).result()
    expected = sorted(m.event.event_id for m in stock)  # type: ignore[union-attr]

    read = subprocess.run(
        [sys.executable, "-c", READ, subscription, str(tmp_path / "w.duckdb"),
         str(tmp_path / "dead_letters"), str(len(expected))],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PUBSUB_EMULATOR_HOST": emulator.host},
    )  # fmt: skip
    assert read.returncode == 0, read.stderr[-3000:]
    outcome = json.loads(read.stdout.splitlines()[-1])
    assert outcome == {"landed": expected, "local_layer_modules": []}
