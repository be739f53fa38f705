"""A contract change end to end: a field added to an event and a table, gated, migrated, mixed.

On a scratch copy of the repository: a NULLABLE ``coupon`` column added to
fact_inventory alone is refused by ``make proto`` (no event field feeds it, so
every inventory event would fail to model); added to InventoryEvent too, with
its source declared, the gate passes and writes the migration; a warehouse
created by the released revision is migrated by the new pipeline (run from the
scratch copy, in a child process), which then takes old-revision messages (NULL
in the new column), new-revision ones, and ones from a revision newer than it
knows (unknown fields counted, nothing dead-lettered).

The same on BigQuery's local implementation: tables that hold rows, created by
``python -m ops.infra apply`` from the released contracts, are migrated by
``ops.infra apply`` of the changed ones (an added column fed by the event, an
added column with a default, a REQUIRED column relaxed), then old-, new- and
newer-revision messages land through the pipeline and the deduplicated view
answers. A field added inside a RECORD is not among them: local-bigquery 0.4.0
answers its ``tables.patch`` with success but drops the field, so that change
stays a client-boundary test (``tests/unit/test_infra.py``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import duckdb

from ecom_contracts_pb.events.v1 import inventory_event_pb2
from ops.emulators import BigQueryEmulator, PubsubEmulator, StorageEmulator
from pipeline.endpoints import bigquery_client
from pipeline.record import PubsubRecord
from pipeline.warehouse import create_tables
from tests.contract.scratch import edit

ROOT = Path(__file__).resolve().parents[2]
COPIED = (
    "proto",
    "registry",
    "generated",
    "bq_schemas",
    "sql",
    "pubsub_schemas",
    "docs",
    "pipeline",
    "contracts",
    "ops",
)


def inventory_event(event_id: str) -> bytes:
    """A valid InventoryEvent of the released revision, serialized."""
    event = inventory_event_pb2.InventoryEvent(
        event_id=event_id,
        product_id="p-1",
        warehouse_id="wh-1",
        quantity_change=5,
        reason=inventory_event_pb2.INVENTORY_REASON_RESTOCK,
    )
    event.event_timestamp.FromJsonString("2025-12-01T10:00:00Z")
    return event.SerializeToString()


def _scratch_copy(tmp_path: Path) -> Path:
    """A scratch copy of the repository's contracts, generated outputs and code."""
    scratch = tmp_path / "repo"
    for name in COPIED:
        shutil.copytree(ROOT / name, scratch / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "buf.yaml", scratch / "buf.yaml")
    return scratch


def _add_event_coupon(scratch: Path) -> None:
    """Add ``optional string coupon = 8`` to the scratch copy's InventoryEvent."""
    edit(
        scratch / "proto/ecom/events/v1/inventory_event.proto",
        "  // The order that caused the movement, for sales and returns; absent otherwise.",
        "  // Coupon code redeemed with the movement, when any.\n  optional string coupon = 8;\n"
        "  // The order that caused the movement, for sales and returns; absent otherwise.",
    )


def _generate(scratch: Path) -> subprocess.CompletedProcess[str]:
    """``make proto`` on the scratch copy."""
    return subprocess.run(
        [sys.executable, "-m", "contracts", "generate", "--repo", str(scratch)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_added_field_flows_through_with_mixed_revisions(tmp_path: Path):
    scratch = _scratch_copy(tmp_path)
    table = scratch / "proto/ecom/warehouse/v1/fact_inventory.proto"
    edit(
        table,
        "  // When BigQuery stored the row",
        "  // Coupon redeemed with the movement; NULL when none.\n  optional string coupon = 10;\n"
        "  // When BigQuery stored the row",
    )
    refused = _generate(scratch)
    assert refused.returncode == 1
    assert "fact_inventory.coupon" in refused.stderr
    assert "has no source" in refused.stderr
    assert not (scratch / "migrations/0002.sql").exists()

    _add_event_coupon(scratch)
    edit(
        table,
        "optional string coupon = 10;",
        'optional string coupon = 10 [(ecom.warehouse.v1.column).source = "coupon"];',
    )
    generated = _generate(scratch)
    assert generated.returncode == 0, generated.stderr
    assert "compatibility gate: passed against 1 release(s)" in generated.stdout
    migration = (scratch / "migrations/0002.sql").read_text()
    assert "ADD COLUMN IF NOT EXISTS coupon STRING" in migration
    assert "'coupon': " in (scratch / "generated/ecom_warehouse/rows.py").read_text()

    # The live warehouse, as the released revision created it.
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        create_tables(connection, migrations={})
        columns = [r[0] for r in connection.execute("DESCRIBE events.fact_inventory").fetchall()]
    assert "coupon" not in columns

    contract = {"ecom_contract": "ecom.events.v1.InventoryEvent"}
    old = inventory_event("old-1")
    new = inventory_event("new-1") + b"\x42\x05B-001"  # field 8: coupon = "B-001"
    newer = inventory_event("newer-1") + b"\x42\x05B-002" + b"\x98\x06\x01"  # and field 99, unknown
    source = tmp_path / "input.ndjson"
    source.write_text(
        "".join(
            PubsubRecord(data, contract, message_id).to_json() + "\n"
            for message_id, data in [("m-old", old), ("m-new", new), ("m-newer", newer)]
        )
    )
    for _ in range(2):  # the second run opens a migrated warehouse: nothing to apply again
        replay = subprocess.run(
            [sys.executable, "-m", "pipeline.main", "--replay", str(source), "--sink", "duckdb",
             "--duckdb_path", str(warehouse),
             "--dead_letter_prefix", str(tmp_path / "dead_letters")],
            cwd=scratch, capture_output=True, text=True, check=False,
            env={**os.environ, "PYTHONPATH": f"{scratch}{os.pathsep}{scratch / 'generated'}"},
        )  # fmt: skip
        assert replay.returncode == 0, replay.stderr[-3000:]
    with duckdb.connect(str(warehouse)) as connection:
        rows = dict(
            connection.execute("SELECT event_id, coupon FROM events.fact_inventory").fetchall()
        )
        migrated = connection.execute("SELECT number FROM events._migrations").fetchall()
    assert rows == {"old-1": None, "new-1": "B-001", "newer-1": "B-002"}
    assert migrated == [(2,)]
    assert not list((tmp_path / "dead_letters").glob("*.ndjson")), "nothing dead-lettered"


def _in(repo: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """Run ``python command`` with ``repo``'s code first on the path (a scratch copy or ROOT)."""
    return subprocess.run(
        [sys.executable, *command], cwd=repo, capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": f"{repo}{os.pathsep}{repo / 'generated'}"},
    )  # fmt: skip


def _replay(repo: Path, source: Path, project: str, dead_letters: Path) -> None:
    done = _in(
        repo, "-m", "pipeline.main", "--replay", str(source), "--sink", "bigquery",
        "--bq_project", project, "--bq_dataset", "events",
        "--dead_letter_prefix", str(dead_letters),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]


def test_live_bigquery_tables_holding_rows_take_the_migration(
    tmp_path: Path,
    emulator: PubsubEmulator,
    bigquery_emulator: BigQueryEmulator,
    storage_emulator: StorageEmulator,
):
    project = f"evolution-{uuid.uuid4().hex[:8]}"
    infra = ["-m", "ops.infra", "apply", "--project", project, "--region", "europe-west1"]
    released = _in(ROOT, *infra)
    assert released.returncode == 0, released.stderr[-3000:]
    contract = {"ecom_contract": "ecom.events.v1.InventoryEvent"}
    before = tmp_path / "before.ndjson"
    before.write_text(PubsubRecord(inventory_event("before-1"), contract, "m-before").to_json())
    _replay(ROOT, before, project, tmp_path / "dead_letters")

    scratch = _scratch_copy(tmp_path)
    table = scratch / "proto/ecom/warehouse/v1/fact_inventory.proto"
    _add_event_coupon(scratch)
    edit(
        table,
        "  // When BigQuery stored the row",
        "  // Coupon redeemed with the movement; NULL when none.\n"
        '  optional string coupon = 10 [(ecom.warehouse.v1.column).source = "coupon"];\n'
        "  // Sales region of the warehouse, set by BigQuery.\n"
        "  string region = 11 [(ecom.warehouse.v1.column).default_value_expression = \"'eu'\"];\n"
        "  // When BigQuery stored the row",
    )
    edit(table, 'required: true\n    source: "warehouse_id"', 'source: "warehouse_id"')
    generated = _generate(scratch)
    assert generated.returncode == 0, generated.stderr
    migration = (scratch / "migrations/0002.sql").read_text()
    for statement in (
        "ADD COLUMN IF NOT EXISTS coupon",
        "ADD COLUMN IF NOT EXISTS region",
        "ALTER COLUMN region SET DEFAULT 'eu'",
        "ALTER COLUMN warehouse_id DROP NOT NULL",
    ):
        assert statement in migration

    migrated = _in(scratch, *infra)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    assert "migration 0002: run migration 0002" in migrated.stdout
    again = _in(scratch, *infra)
    assert "migration 0002: unchanged" in again.stdout  # recorded in the ledger, run once

    old = inventory_event("old-1")
    new = inventory_event("new-1") + b"\x42\x05B-001"  # field 8: coupon = "B-001"
    newer = inventory_event("newer-1") + b"\x42\x05B-002" + b"\x98\x06\x01"  # and field 99
    after = tmp_path / "after.ndjson"
    after.write_text(
        "".join(
            PubsubRecord(data, contract, message_id).to_json() + "\n"
            for message_id, data in [("m-old", old), ("m-new", new), ("m-newer", newer)]
        )
    )
    _replay(scratch, after, project, tmp_path / "dead_letters")
    assert not list((tmp_path / "dead_letters").glob("*.ndjson")), "nothing dead-lettered"

    client = bigquery_client(project)
    relaxed = client.insert_rows_json(
        f"{project}.events.fact_inventory",
        [
            {
                "event_id": "relaxed-1",
                "event_date": "2025-12-01",
                "event_timestamp": "2025-12-01T10:00:00Z",
                "product_id": "p-1",
                "quantity_change": 1,
                "reason": "restock",
            }
        ],
        row_ids=["relaxed-1"],
    )
    assert relaxed == [], "warehouse_id is NULLABLE on the live table now"
    rows = {
        row["event_id"]: (row["coupon"], row["region"], row["warehouse_id"])
        for row in client.query(
            "SELECT event_id, coupon, region, warehouse_id FROM events.fact_inventory_dedup"
        ).result()
    }
    assert rows == {
        "before-1": (None, None, "wh-1"),  # landed before the column existed
        "old-1": (None, "eu", "wh-1"),  # an old-revision event: no coupon, the default
        "new-1": ("B-001", "eu", "wh-1"),
        "newer-1": ("B-002", "eu", "wh-1"),
        "relaxed-1": (None, "eu", None),
    }
