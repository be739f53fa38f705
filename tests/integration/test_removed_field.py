"""An event field removed after a release: older producers' JSON still lands.

On a scratch copy of the repository: ``batch_id`` is added to InventoryEvent and
released, then removed with its name and number reserved. ``make proto`` allows
it and records the field in ``ecom_contracts_pb.registry_revisions.REMOVED_FIELDS``; the
pipeline (run from the scratch copy, in a child process) decodes JSON messages
of the older revision that still carry it (as ``batchId`` or ``batch_id``), while
a field no revision ever had is still a decode error.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
from google.protobuf import json_format

from ecom_contracts_pb.pubsub.v1 import inventory_event_pb2 as pubsub_inventory
from pipeline.record import PubsubRecord
from tests.contract.scratch import edit
from tests.integration.test_evolution import COPIED, ROOT, inventory_event


def _run(path: Path, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``python -m *args`` in ``cwd``, importing first from ``path`` and its generated code."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd, capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": f"{path}{os.pathsep}{path / 'generated'}"},
    )  # fmt: skip


BATCH = "  // Supplier batch of the goods, when known.\n  optional string batch_id = 8;\n"
ORDER_COMMENT = "  // The order that caused the movement, for sales and returns; absent otherwise."


def test_removed_field_in_json_from_an_older_producer_still_lands(tmp_path: Path):
    scratch = tmp_path / "repo"
    for name in COPIED:
        shutil.copytree(ROOT / name, scratch / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "buf.yaml", scratch / "buf.yaml")
    inventory = scratch / "proto/ecom/events/v1/inventory_event.proto"
    edit(inventory, ORDER_COMMENT, BATCH + ORDER_COMMENT)
    for step in (
        ("contracts", "generate", "--repo", str(scratch)),
        ("contracts", "release", "--repo", str(scratch), "--date", "2026-01-02"),
        ("contracts", "generate", "--repo", str(scratch), "--skip-breaking"),
    ):
        done = _run(ROOT, *step)
        assert done.returncode == 0, done.stdout + done.stderr
    # Release 2 has batch_id; the working tree removes it, reserving name and number.
    edit(inventory, BATCH, '  reserved 8;\n  reserved "batch_id";\n')
    generated = _run(ROOT, "contracts", "generate", "--repo", str(scratch))
    assert generated.returncode == 0, generated.stderr
    assert "allowed: InventoryEvent.batch_id: optional field removed" in generated.stdout
    revisions = (scratch / "generated/ecom_contracts_pb/registry_revisions.py").read_text()
    assert '"ecom.events.v1.InventoryEvent": [\n        [\n            [\n' in revisions
    assert '"batch_id",\n                "batchId"' in revisions

    shaped = pubsub_inventory.InventoryEvent.FromString(inventory_event("x"))
    payload = json.loads(json_format.MessageToJson(shaped))
    attributes = {"ecom_contract": "ecom.events.v1.InventoryEvent", "ecom_encoding": "JSON"}
    messages = {
        "m-camel": {**payload, "eventId": "old-camel", "batchId": "B-1"},
        "m-proto-name": {**payload, "eventId": "old-proto-name", "batch_id": "B-2"},
        "m-unknown": {**payload, "eventId": "unknown", "coupon": "X"},
    }
    source = tmp_path / "input.ndjson"
    source.write_text(
        "".join(
            PubsubRecord(json.dumps(body).encode(), attributes, message_id).to_json() + "\n"
            for message_id, body in messages.items()
        )
    )
    warehouse = tmp_path / "warehouse.duckdb"
    dead_letters = tmp_path / "dead_letters"
    replay = _run(
        scratch, "pipeline.main", "--replay", str(source), "--sink", "duckdb",
        "--duckdb_path", str(warehouse), "--dead_letter_prefix", str(dead_letters),
        cwd=scratch,
    )  # fmt: skip
    assert replay.returncode == 1, replay.stderr[-3000:]  # the unknown field's message
    assert "1 deliveries dead-lettered" in replay.stderr
    with duckdb.connect(str(warehouse)) as connection:
        landed = {
            r[0] for r in connection.sql("SELECT event_id FROM events.fact_inventory").fetchall()
        }
    assert landed == {"old-camel", "old-proto-name"}
    letters = [
        json.loads(line)
        for path in dead_letters.glob("*.ndjson")
        for line in path.read_text().splitlines()
    ]
    assert [(d["messageId"], d["reason"]) for d in letters] == [
        ("m-unknown", "REASON_DECODE_ERROR")
    ]
