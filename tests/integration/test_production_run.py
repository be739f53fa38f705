"""``make run WAREHOUSE=bigquery``: the production path on the local services, end to end.

The command a user runs (``python -m ops.local_run --warehouse bigquery``,
what the Makefile calls) starts the Pub/Sub, BigQuery and Cloud Storage
emulators, applies the infrastructure with ``python -m ops.infra apply``,
runs the pipeline with ``run.sh launch``'s options on the DirectRunner, and
must reconcile; the seed's queries, answered by the BigQuery emulator in
GoogleSQL as written, must equal the answers computed here from the
generated events and DuckDB's for the same messages. Both write methods.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import require_bigquery_emulator, require_emulator
from tests.integration.test_local_run import EVENTS, ROOT, SEED, _check


def _production_run(tmp_path: Path, *extra: str) -> tuple[dict[str, Any], str]:
    """Run it as ``make run`` does, from a folder of its own with a relative work folder."""
    completed = subprocess.run(
        [sys.executable, "-m", "ops.local_run", "--warehouse", "bigquery",
         "--events", str(EVENTS), "--rate", "800", "--seed", str(SEED), "--timeout", "240",
         "--workdir", "local", *extra],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    summary: dict[str, Any] = json.loads((tmp_path / "local" / "summary.json").read_text())
    return summary, completed.stdout


@pytest.mark.parametrize("write_method", ["streaming_inserts", "storage_write_api"])
def test_the_production_path_reconciles_and_both_engines_agree(tmp_path: Path, write_method: str):
    require_emulator()
    require_bigquery_emulator()
    summary, said = _production_run(tmp_path, "--bq-write-method", write_method)
    assert "(reconciled)" in said
    assert summary["mode"] == f"streaming on the local services, {write_method}"
    _check(summary)  # the BigQuery emulator's answers, against the generated events
    assert summary["duckdb_comparison"] == {}
    assert said.count("DuckDB: the same") == 5
    infra = (tmp_path / "local" / "cloud" / "infra.log").read_text()
    for created in ("projects/ecom-local/topics/order-events: create",
                    "ecom-local.events.fact_order_item: create",
                    "ecom-local.events.fact_order_item_dedup: create",
                    "gs://ecom-local-ecom-ingest: create"):  # fmt: skip
        assert created in infra
    for skipped in ("iam.project_binding", "monitoring.alert_policy", "pubsub.schema",
                    "artifactregistry.repository", "order-events-raw"):  # fmt: skip
        assert any(skipped in line and ": skipped (" in line for line in infra.splitlines())
    assert "gs://ecom-local-ecom-ingest/dead_letters" in said


@pytest.mark.parametrize(
    ("services", "write_method"),
    [
        (["storage"], "streaming_inserts"),
        (["bigquery"], "streaming_inserts"),
        (["bigquery"], "storage_write_api"),
        (["bigquery", "storage"], "streaming_inserts"),
    ],
)
def test_outage_drills_lose_nothing_and_a_replay_completes_the_tables(
    tmp_path: Path, services: list[str], write_method: str
):
    """A service stopped mid-run and started again: rows or dead letters, then exact after replay.

    While BigQuery is away, the sink dead-letters what it cannot write
    (``sink_unavailable``) after its bounded retries; while Cloud Storage is
    away, dead-letter writes fail and are retried (the client's retries, then
    the bundle's), never dropped. The run then replays every dead letter and
    must reconcile exactly, its queries equal to DuckDB's for the same messages.
    """
    require_emulator()
    require_bigquery_emulator()
    outage = [arg for service in services for arg in ("--outage", service)]
    summary, said = _production_run(
        tmp_path, "--bq-write-method", write_method, *outage, "--outage-seconds", "10"
    )
    assert "(reconciled)" in said
    assert summary["outage"]["services"] == services
    assert 0 < summary["outage"]["stopped_at_published"] < EVENTS
    assert f"outage drill: {', '.join(services)} answering again" in said
    assert "replaying the dead letters, as after an outage" in said
    _check(summary)
    assert summary["duckdb_comparison"] == {}
    assert "sink_unavailable" not in summary["dead_letters_by_reason"]


def test_an_outage_drill_needs_the_production_shaped_run(tmp_path: Path):
    completed = subprocess.run(
        [sys.executable, "-m", "ops.local_run", "--outage", "bigquery", "--workdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "add --warehouse bigquery" in completed.stderr
    assert not (tmp_path / "published.ndjson").exists()
