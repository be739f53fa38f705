"""The infrastructure plan (every request, as data), its dry run, run.sh and the worker package.

Google Cloud is not reachable from here: the plan is checked as data, and the
apply layer's schema-revision logic against a fake at the client boundary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlglot
from google.api_core import exceptions

from contracts.registry import Registry
from ops.infra.__main__ import main as infra_main
from ops.infra.apply import Clients, ensure_schema, ensure_topic
from ops.infra.plan import Settings, build_plan, migration_steps, pipeline_arguments

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings("demo-project", "europe-west1")


def _steps(kind: str) -> list[Any]:
    return [s for s in build_plan(SETTINGS, "123") if s.kind == kind]


def test_schemas_are_the_committed_pubsub_definitions():
    schemas = _steps("pubsub.schema")
    assert [s.name.rsplit("/", 1)[-1] for s in schemas] == [
        "order-event",
        "inventory-event",
        "user-activity-event",
    ]
    for step in schemas:
        file = step.request["schema_id"].replace("-", "_") + ".proto"
        assert step.request["schema"]["definition"] == (ROOT / "pubsub_schemas" / file).read_text()
        assert step.request["schema"]["type_"] == "PROTOCOL_BUFFER"


def test_topics_are_bound_to_their_schema():
    topics = {s.name: s for s in _steps("pubsub.topic")}
    order = topics["projects/demo-project/topics/order-events"].request["schema_settings"]
    assert order["schema"] == "projects/demo-project/schemas/order-event"
    assert order["encoding"] == "BINARY"
    assert "projects/demo-project/topics/order-events-undeliverable" in topics


def test_subscriptions_have_dead_letter_and_retry_policies():
    for step in _steps("pubsub.subscription"):
        request = step.request
        assert (
            request["dead_letter_policy"]["dead_letter_topic"]
            == request["topic"] + "-undeliverable"
        )
        assert 5 <= request["dead_letter_policy"]["max_delivery_attempts"] <= 100
        assert request["retry_policy"]["minimum_backoff"]["seconds"] >= 10
        assert request["ack_deadline_seconds"] == 60


def test_table_ddl_is_the_generated_ddl_in_the_deployments_dataset():
    tables = _steps("bigquery.table")
    assert len(tables) == 5
    for step in tables:
        statement = sqlglot.parse_one(step.request["ddl"], read="bigquery")
        table = statement.find(sqlglot.exp.Table)
        assert table is not None
        assert (table.catalog, table.db) == ("demo-project", "events")
        assert "PARTITION BY" in step.request["ddl"]


def test_bucket_has_uniform_access_and_lifecycle():
    (bucket,) = _steps("storage.bucket")
    assert bucket.request["iam_configuration"]["uniform_bucket_level_access"]["enabled"]
    prefixes = [r["condition"]["matches_prefix"] for r in bucket.request["lifecycle_rules"]]
    assert ["temp/", "staging/"] in prefixes
    assert ["dead_letters/"] in prefixes


def test_service_account_gets_least_privilege_bindings():
    member = "serviceAccount:ecom-ingest-pipeline@demo-project.iam.gserviceaccount.com"
    project_roles = {s.request["role"] for s in _steps("iam.project_binding")}
    assert project_roles == {
        "roles/dataflow.worker",
        "roles/dataflow.viewer",
        "roles/monitoring.metricWriter",
        "roles/logging.logWriter",
    }
    assert not any("admin" in role.lower() or "editor" in role.lower() for role in project_roles)
    scoped = (
        _steps("iam.subscription_binding")
        + _steps("iam.dataset_binding")
        + _steps("iam.bucket_binding")
    )
    ours = [s for s in scoped if s.request["member"] == member]
    assert {s.request["role"] for s in ours} == {
        "roles/pubsub.subscriber",
        "roles/pubsub.viewer",
        "WRITER",
        "roles/storage.objectAdmin",
    }
    agent = "serviceAccount:service-123@gcp-sa-pubsub.iam.gserviceaccount.com"
    assert {s.request["role"] for s in _steps("iam.topic_binding")} == {"roles/pubsub.publisher"}
    assert all(s.request["member"] == agent for s in _steps("iam.topic_binding"))


def test_every_step_depends_only_on_earlier_steps():
    seen: set[str] = set()
    for step in build_plan(SETTINGS, "123"):
        assert set(step.depends_on) <= seen, step.name
        seen.add(step.name)


def test_dry_run_prints_the_plan_and_calls_nothing(capsys: pytest.CaptureFixture[str]):
    assert infra_main(["--project", "demo-project", "--region", "europe-west1", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "gcloud services enable dataflow.googleapis.com" in out
    assert "plan (38 steps, nothing is called with --dry-run)" in out  # no migration yet
    assert "pubsub.schema          projects/demo-project/schemas/order-event" in out
    assert "bigquery.table         demo-project.events.fact_order_item" in out
    assert "roles/dataflow.worker: run Dataflow work items" in out


class FakeSchemas:
    """Pub/Sub's schema service at the client boundary: revisions kept in memory."""

    def __init__(self) -> None:
        self.revisions: dict[str, list[Any]] = {}

    def get_schema(self, request: dict[str, Any]) -> Any:
        if request["name"] not in self.revisions:
            raise exceptions.NotFound("no schema")
        return self.revisions[request["name"]][-1]

    def create_schema(self, request: dict[str, Any]) -> Any:
        name = f"{request['parent']}/schemas/{request['schema_id']}"
        self.revisions[name] = [self._revision(request["schema"], 1)]
        return self.revisions[name][-1]

    def commit_schema(self, request: dict[str, Any]) -> Any:
        revisions = self.revisions[request["name"]]
        revisions.append(self._revision(request["schema"], len(revisions) + 1))
        return revisions[-1]

    def list_schema_revisions(self, request: dict[str, Any]) -> list[Any]:
        return list(reversed(self.revisions[request["name"]]))

    @staticmethod
    def _revision(schema: dict[str, Any], number: int) -> Any:
        return SimpleNamespace(
            definition=schema["definition"], revision_id=f"r{number}", revision_create_time=number
        )


class FakeTopics:
    def __init__(self) -> None:
        self.topics: dict[str, Any] = {}
        self.updates: list[Any] = []

    def get_topic(self, request: dict[str, Any]) -> Any:
        if request["topic"] not in self.topics:
            raise exceptions.NotFound("no topic")
        settings = self.topics[request["topic"]]["schema_settings"]
        return SimpleNamespace(schema_settings=SimpleNamespace(**settings))

    def create_topic(self, request: dict[str, Any]) -> None:
        self.topics[request["name"]] = request

    def update_topic(self, request: dict[str, Any]) -> None:
        self.updates.append(request)
        self.topics[request["topic"]["name"]] = request["topic"]


def test_changed_schema_gets_a_new_revision_and_the_topic_accepts_it(tmp_path: Path):
    fake, topics = FakeSchemas(), FakeTopics()
    shutil.copytree(ROOT / "registry", tmp_path / "registry")
    clients = Clients(fake, topics, None, None, None, None, None, tmp_path / "registry")
    schema = _steps("pubsub.schema")[0]
    topic = _steps("pubsub.topic")[0]
    assert ensure_schema(clients, schema) == "created (Pub/Sub revision r1)"
    assert ensure_topic(clients, topic) == "created"
    assert ensure_schema(clients, schema) == "unchanged (Pub/Sub revision r1)"
    assert ensure_topic(clients, topic) == "unchanged"
    mapping = Registry.load(tmp_path / "registry").pubsub_revisions
    assert mapping == {"order-event": {"r1": 1}}  # Pub/Sub revision r1 is registry revision 1
    changed = schema.request | {
        "schema": schema.request["schema"] | {"definition": 'syntax = "proto3";\nmessage X {}\n'}
    }
    assert ensure_schema(clients, type(schema)(schema.kind, schema.name, changed)) == (
        "new revision committed (Pub/Sub revision r2)"
    )
    assert len(fake.revisions[schema.name]) == 2  # a revision, never a replacement
    assert ensure_topic(clients, topic) == "now accepts revisions r1..r2"
    settings = topics.updates[-1]["topic"]["schema_settings"]
    assert (settings["first_revision_id"], settings["last_revision_id"]) == ("r1", "r2")


def test_pipeline_arguments_name_every_subscription():
    arguments = pipeline_arguments(SETTINGS)
    assert arguments.count("--subscription") == 3
    assert (
        "ecom.events.v1.OrderEvent=projects/demo-project/subscriptions/order-events-pipeline"
        in arguments
    )
    assert (
        arguments[arguments.index("--dead_letter_prefix") + 1]
        == "gs://demo-project-ecom-ingest/dead_letters"
    )


def _run_sh(*args: str, **env: str) -> str:
    completed = subprocess.run(
        ["bash", str(ROOT / "run.sh"), *args],
        env={**os.environ, "PROJECT": "demo-project", "REGION": "europe-west1", "DRY_RUN": "1",
             "PY": sys.executable, **env},
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return completed.stdout


def test_run_sh_launches_a_streaming_dataflow_job():
    command = _run_sh("launch")
    for flag in (
        "--runner DataflowRunner",
        "--streaming",
        "--enable_streaming_engine",
        "--region europe-west1",
        "--max_num_workers 5",
        "--service_account_email ecom-ingest-pipeline@demo-project.iam.gserviceaccount.com",
        "--temp_location gs://demo-project-ecom-ingest/temp",
        "--setup_file ./setup.py",
        "--dead_letter_prefix gs://demo-project-ecom-ingest/dead_letters",
    ):
        assert flag in command, flag
    assert "--update" not in command


def test_run_sh_update_passes_the_transform_name_mapping():
    command = _run_sh("update", TRANSFORM_NAME_MAPPING='{"Old":"New"}')
    assert "--update" in command
    assert "--transform_name_mapping=" in command
    assert "Old" in command


def test_worker_package_carries_the_pipeline_and_generated_code(tmp_path: Path):
    """Dataflow installs the sdist that ``--setup_file ./setup.py`` builds on every worker."""
    subprocess.run(
        [sys.executable, "setup.py", "-q", "sdist", "--dist-dir", str(tmp_path)],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    for required in (
        "pipeline/main.py",
        "pipeline/sinks/bigquery.py",
        "generated/ecom/events/v1/order_event_pb2.py",
        "generated/ecom/pubsub/v1/order_event_pb2.py",
        "generated/buf/validate/validate_pb2.py",
        "contracts/bigquery_schema.py",
    ):
        assert any(name.endswith(required) for name in names), required


def test_migrations_are_applied_in_the_deployments_dataset(tmp_path: Path):
    (tmp_path / "0002.sql").write_text(
        "-- Migration 0002.\nALTER TABLE `events.fact_inventory` ALTER COLUMN x DROP NOT NULL;\n"
    )
    (tmp_path / "notes.sql").write_text("-- not a migration\n")
    (step,) = migration_steps(SETTINGS, tmp_path)
    assert step.kind == "bigquery.migration"
    assert (
        "ALTER TABLE `demo-project.events.fact_inventory` ALTER COLUMN x DROP NOT NULL;"
        in (step.request["sql"])
    )
