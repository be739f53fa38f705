"""The local BigQuery and Cloud Storage services answer as the project's clients need.

These are the services the production-shaped run, the sinks' tests and the
drills stand on: if one stops answering a way the project relies on (DDL with
partitioning and clustering, per-row insert errors, AppendRows, Beam's
batched renames, data kept across a restart), this fails first.
"""

from __future__ import annotations

import time

import pytest
import requests
from apache_beam.io.filesystems import FileSystems
from google.api_core import exceptions

from ecom_warehouse.artifacts import WAREHOUSE_TABLES
from ops.emulators import BigQueryEmulator, StorageEmulator
from pipeline import endpoints


def test_bigquery_runs_the_generated_ddl_and_keeps_it_across_a_restart(
    bigquery_emulator: BigQueryEmulator, bigquery_project: str
):
    client = endpoints.bigquery_client(bigquery_project)
    client.create_dataset("events")
    client.query(WAREHOUSE_TABLES["fact_order_item"]["ddl"]).result()
    table = client.get_table(f"{bigquery_project}.events.fact_order_item")
    assert table.time_partitioning.field == "order_date"
    assert table.clustering_fields == ["product_id"]
    row = {"line_key": "o|1", "order_id": "o", "item_id": 1, "event_id": "e",
           "order_date": "2025-12-01", "event_timestamp": "2025-12-01T10:00:00Z",
           "product_id": "p", "product_name": "n", "quantity": 1, "unit_price": "2.5",
           "total_amount": "2.5", "currency": "EUR"}  # fmt: skip
    errors = client.insert_rows_json(
        table, [row, {**row, "line_key": "o|2", "quantity": "many"}], row_ids=["a", "b"]
    )
    assert [(e["index"], e["errors"][0]["reason"]) for e in errors] == [
        (0, "stopped"),
        (1, "invalid"),
    ]
    assert client.insert_rows_json(table, [row], row_ids=["a"]) == []

    bigquery_emulator.halt()
    with pytest.raises(requests.exceptions.ConnectionError):
        client.query("SELECT 1", retry=None, job_retry=None).result(timeout=5)
    bigquery_emulator.start()
    rows = client.query("SELECT line_key FROM events.fact_order_item").result()
    assert [r[0] for r in rows] == ["o|1"]


def test_storage_takes_beams_writes_and_renames_without_waiting_for_credentials(
    storage_emulator: StorageEmulator,
):
    client = endpoints.storage_client("ecom-test")
    client.create_bucket("emulator-test-renames")
    assert endpoints.beam_storage_without_credentials()
    started = time.monotonic()
    handle = FileSystems.create("gs://emulator-test-renames/dl/a.ndjson.tmp")
    handle.write(b'{"a": 1}\n')
    handle.close()
    FileSystems.rename(
        ["gs://emulator-test-renames/dl/a.ndjson.tmp"], ["gs://emulator-test-renames/dl/a.ndjson"]
    )
    seconds = time.monotonic() - started
    found = FileSystems.match(["gs://emulator-test-renames/dl/*"])[0].metadata_list
    assert [m.path for m in found] == ["gs://emulator-test-renames/dl/a.ndjson"]
    assert seconds < 15, f"Beam waited {seconds:.0f}s for credentials it does not need"

    storage_emulator.halt()
    storage_emulator.start()
    blob = client.bucket("emulator-test-renames").blob("dl/a.ndjson")
    assert blob.download_as_bytes() == b'{"a": 1}\n'
    with pytest.raises(exceptions.NotFound):
        client.bucket("emulator-test-renames").blob("dl/a.ndjson.tmp").download_as_bytes()
