"""The infrastructure plan and its apply layer, at the client libraries' own boundaries.

Google Cloud cannot be reached from here. The plan is checked as the request
objects of the client libraries (``pubsub`` types, ``bigquery.Table``,
``storage.Bucket``, IAM ``Binding``). Where a library builds an HTTP request
itself (Cloud Storage, BigQuery), the real client runs and only its HTTP
methods are replaced, so the tests assert on the JSON it would send. IAM and
BigQuery query jobs are fakes at the client call, which nothing local can
answer. The Pub/Sub steps run against the emulator in
``tests/integration/test_infra_emulator.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, storage  # type: ignore[attr-defined]
from google.iam.v1 import iam_policy_pb2, policy_pb2
from google.pubsub_v1 import types as pubsub
from google.type import expr_pb2

from ecom_warehouse.artifacts import PUBSUB_SCHEMAS, WAREHOUSE_TABLES
from ops.infra import ensure_bigquery, ensure_iam, ensure_storage
from ops.infra.__main__ import main as infra_main
from ops.infra.context import Clients, Context, InfraError
from ops.infra.plan import build_plan, migration_steps, pipeline_arguments
from ops.infra.settings import Settings, Step, pipeline_subscription_id, raw_subscription_id
from pipeline.catalog import BY_NAME

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings("demo-project", "europe-west1", project_number="123")


def _steps(kind: str, settings: Settings = SETTINGS) -> list[Step]:
    return [s for s in build_plan(settings) if s.kind == kind]


def _context(**clients: Any) -> Context:
    return Context(Clients(**clients), SETTINGS, sleep=lambda _: None)


# The plan, as request objects ------------------------------------------------------------


def test_pipeline_subscriptions_carry_no_dead_letter_topic_nor_retry_policy():
    pipeline = [s for s in _steps("pubsub.subscription") if s.name.endswith("-pipeline")]
    assert len(pipeline) == 3
    for step in pipeline:
        request = step.request
        assert isinstance(request, pubsub.Subscription)
        message = pubsub.Subscription.pb(request)
        assert not message.HasField("dead_letter_policy")
        assert not message.HasField("retry_policy")
        assert message.HasField("expiration_policy")  # set, with no ttl: never expires
        assert not message.expiration_policy.HasField("ttl")
        assert message.message_retention_duration.seconds == 7 * 86400
        assert request.ack_deadline_seconds == 60
    assert not any(s.name.endswith("-undeliverable") for s in _steps("pubsub.topic"))


def test_raw_landing_subscriptions_write_every_message_to_the_raw_tables():
    raw = [s for s in _steps("pubsub.subscription") if s.name.endswith("-raw")]
    assert [s.name.rsplit("/", 1)[-1] for s in raw] == [
        "inventory-events-raw",
        "order-events-raw",
        "user-activity-events-raw",
    ]
    order = raw[1]
    config = order.request.bigquery_config
    assert isinstance(config, pubsub.BigQueryConfig)
    assert config.table == "demo-project.events_raw.raw_order_events"  # not the warehouse
    assert config.use_topic_schema
    assert config.write_metadata
    assert not config.drop_unknown_fields  # the audit copy drops nothing
    assert "demo-project.events_raw.raw_order_events: roles/bigquery.dataEditor" in order.depends_on
    agent = "serviceAccount:service-123@gcp-sa-pubsub.iam.gserviceaccount.com"
    table_grants = _steps("iam.table_binding")
    assert {s.request.members[0] for s in table_grants} == {agent}
    assert not _steps("pubsub.subscription", Settings("p", "r", raw_landing=False))[3:]


def test_schemas_are_the_generated_pubsub_definitions():
    schemas = _steps("pubsub.schema")
    assert [s.name.rsplit("/", 1)[-1] for s in schemas] == [
        "inventory-event",
        "order-event",
        "user-activity-event",
    ]
    for step in schemas:
        assert isinstance(step.request, pubsub.Schema)
        file = step.context["schema_id"].replace("-", "_") + ".proto"
        assert step.request.definition == (ROOT / "pubsub_schemas" / file).read_text()
        assert PUBSUB_SCHEMAS[file] == step.request.definition
        assert step.request.type_ == pubsub.Schema.Type.PROTOCOL_BUFFER


def test_topics_are_bound_to_their_schema_in_the_deployments_encoding():
    for encoding in ("BINARY", "JSON"):
        settings = Settings("demo-project", "europe-west1", encoding=encoding)
        topic = _steps("pubsub.topic", settings)[0].request
        assert isinstance(topic, pubsub.Topic)
        assert topic.schema_settings.schema == "projects/demo-project/schemas/inventory-event"
        assert topic.schema_settings.encoding == getattr(pubsub.Encoding, encoding)


def test_tables_are_created_with_the_generated_schema_partitioning_and_clustering():
    tables = {s.name: s.request for s in _steps("bigquery.table")}
    header = tables["demo-project.events.fact_order_header"]
    assert isinstance(header, bigquery.Table)
    assert header.time_partitioning.field == "order_date"
    assert header.clustering_fields == ["shipping_address_country", "status"]
    generated = json.loads((ROOT / "bq_schemas/fact_order_header.json").read_text())
    sent = header.to_api_repr()["schema"]["fields"]
    assert [f["name"] for f in sent] == [f["name"] for f in generated]
    assert not any("policyTags" in f for f in sent)  # no taxonomy given: tags left alone
    raw = tables["demo-project.events_raw.raw_order_events"]
    assert raw.time_partitioning.field == "publish_time"
    assert raw.time_partitioning.expiration_ms == 90 * 86_400_000
    datasets = {s.name for s in _steps("bigquery.dataset")}
    assert datasets == {"demo-project.events", "demo-project.events_raw"}


def test_pii_columns_get_the_given_policy_tag():
    tag = "projects/demo-project/locations/eu/taxonomies/1/policyTags/2"
    settings = Settings("demo-project", "europe-west1", pii_policy_tag=tag)
    header = next(
        s.request for s in _steps("bigquery.table", settings) if s.name.endswith("_header")
    )
    fields = {f.name: f for f in header.schema}
    assert fields["customer_email"].policy_tags == bigquery.PolicyTagList(names=[tag])
    assert fields["order_id"].policy_tags is None


def test_views_deduplicate_by_row_key_within_the_partition_date():
    views = {s.name: s.request for s in _steps("bigquery.view")}
    ddl = views["demo-project.events.fact_order_item_dedup"]
    assert "CREATE OR REPLACE VIEW `demo-project.events.fact_order_item_dedup`" in ddl
    assert "FROM `demo-project.events.fact_order_item` AS fact_row" in ddl
    assert (
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY order_date, line_key "
        "ORDER BY ingestion_timestamp, TO_JSON_STRING(fact_row)) = 1" in ddl
    )
    assert len(views) == len(WAREHOUSE_TABLES)


def test_every_step_depends_only_on_earlier_steps():
    seen: set[str] = set()
    for step in build_plan(SETTINGS):
        assert set(step.depends_on) <= seen, step.name
        seen.add(step.name)


def test_service_account_gets_least_privilege_bindings():
    member = "serviceAccount:ecom-ingest-pipeline@demo-project.iam.gserviceaccount.com"
    project_roles = {s.request.role for s in _steps("iam.project_binding")}
    assert project_roles == {
        "roles/dataflow.worker",
        "roles/dataflow.viewer",
        "roles/monitoring.metricWriter",
        "roles/logging.logWriter",
    }
    scoped = _steps("iam.pubsub_binding") + _steps("iam.bucket_binding")
    scoped += _steps("iam.repository_binding")
    assert all(isinstance(s.request, policy_pb2.Binding) for s in scoped)
    assert {s.request.role for s in scoped if member in s.request.members} == {
        "roles/pubsub.subscriber",
        "roles/pubsub.viewer",
        "roles/storage.objectAdmin",
        "roles/artifactregistry.reader",
    }
    (dataset,) = _steps("iam.dataset_binding")
    assert dataset.request == bigquery.AccessEntry(
        "WRITER", "userByEmail", "ecom-ingest-pipeline@demo-project.iam.gserviceaccount.com"
    )


def test_migrations_are_applied_in_the_deployments_dataset():
    (step,) = migration_steps(
        SETTINGS, {2: "ALTER TABLE `events.fact_inventory` ALTER COLUMN x DROP NOT NULL;\n"}
    )
    assert step.kind == "bigquery.migration"
    assert step.request == (
        "ALTER TABLE `demo-project.events.fact_inventory` ALTER COLUMN x DROP NOT NULL;\n"
    )


def test_the_deployment_names_the_subscriptions_of_a_contracts_topic():
    """The contract knows its topic; what reads the topic is the deployment's to name."""
    order = BY_NAME["ecom.events.v1.OrderEvent"]
    assert pipeline_subscription_id(order) == "order-events-pipeline"
    assert raw_subscription_id(order) == "order-events-raw"
    assert not hasattr(order, "subscription_id")
    subscriptions = [s.name for s in _steps("pubsub.subscription")]
    assert "projects/demo-project/subscriptions/order-events-pipeline" in subscriptions
    assert "projects/demo-project/subscriptions/order-events-raw" in subscriptions


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


def _granted_to(member: str, settings: Settings = SETTINGS) -> dict[str, set[str]]:
    """Return, per IAM step kind, the roles the plan grants ``member``."""
    granted: dict[str, set[str]] = {}
    for step in build_plan(settings):
        if isinstance(step.request, policy_pb2.Binding) and member in step.request.members:
            granted.setdefault(step.kind, set()).add(step.request.role)
    return granted


def test_the_build_account_gets_what_run_sh_image_needs_and_no_more():
    # New projects run directly submitted builds as the Compute Engine default service
    # account, which has no Cloud Build role: it must read the uploaded context, write the
    # build's logs and push the image.
    member = "serviceAccount:123-compute@developer.gserviceaccount.com"
    assert _granted_to(member) == {
        "iam.project_binding": {"roles/logging.logWriter"},
        "iam.bucket_binding": {"roles/storage.objectViewer"},
        "iam.repository_binding": {"roles/artifactregistry.writer"},
    }
    bindings = {
        s.kind: s for s in build_plan(SETTINGS) if member in getattr(s.request, "members", [])
    }
    assert bindings["iam.bucket_binding"].context["resource"] == "demo-project_cloudbuild"
    assert bindings["iam.repository_binding"].context["resource"] == (
        "projects/demo-project/locations/europe-west1/repositories/ecom-ingest"
    )
    assert bindings["iam.project_binding"].context["resource"] == "projects/demo-project"
    buckets = {s.name: s.request for s in _steps("storage.bucket")}
    source = buckets["gs://demo-project_cloudbuild"]
    assert source.iam_configuration.uniform_bucket_level_access_enabled
    assert [dict(rule) for rule in source.lifecycle_rules] == [
        {"action": {"type": "Delete"}, "condition": {"age": 7, "matchesPrefix": ["source/"]}}
    ]
    # the job's account is not the build's: it keeps reading the repository only
    job = "serviceAccount:ecom-ingest-pipeline@demo-project.iam.gserviceaccount.com"
    assert "roles/artifactregistry.writer" not in _granted_to(job)["iam.repository_binding"]


def test_a_given_build_account_gets_the_grants_instead():
    settings = Settings(
        "demo-project", "europe-west1", project_number="123",
        build_service_account="builder@demo-project.iam.gserviceaccount.com",
    )  # fmt: skip
    given = _granted_to("serviceAccount:builder@demo-project.iam.gserviceaccount.com", settings)
    assert given == {
        "iam.project_binding": {"roles/logging.logWriter"},
        "iam.bucket_binding": {"roles/storage.objectViewer"},
        "iam.repository_binding": {"roles/artifactregistry.writer"},
    }
    assert _granted_to("serviceAccount:123-compute@developer.gserviceaccount.com", settings) == {}


# The command line ------------------------------------------------------------------------


def test_dry_run_shows_the_plan_and_calls_nothing(capsys: pytest.CaptureFixture[str]):
    assert infra_main(["--project", "demo-project", "--region", "europe-west1", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "gcloud services enable dataflow.googleapis.com" in out
    assert re.search(r"plan \(\d+ steps, nothing is called with --dry-run\)", out)
    lines = out.splitlines()
    pipeline_sub = next(line for line in lines if "subscriptions/order-events-pipeline " in line)
    assert "no dead-letter topic or retry policy" in pipeline_sub
    assert any("subscriptions/order-events-raw" in line for line in lines)
    bucket = next(line for line in lines if line.strip().startswith("storage.bucket"))
    assert "dead_letters/ kept 90 days" in bucket
    schema = next(line for line in lines if "schemas/order-event" in line)
    assert "committed only when the definition's meaning changes" in schema
    assert "revisions no topic of the project accepts are kept" in schema
    assert any(line.strip().startswith("bigquery.view") for line in lines)
    assert sum(line.strip().startswith("monitoring.alert_policy") for line in lines) >= 8
    assert "undeliverable" not in out


def test_dry_run_json_is_what_the_libraries_send(capsys: pytest.CaptureFixture[str]):
    infra_main(["--project", "demo-project", "--region", "europe-west1", "--dry-run", "--json"])
    out = capsys.readouterr().out
    lines = out.splitlines()
    bucket = json.loads(lines[lines.index(next(x for x in lines if "storage.bucket" in x)) + 1])
    rules = bucket["lifecycle"]["rule"]
    assert {"age": 90, "matchesPrefix": ["dead_letters/"]} in [r["condition"] for r in rules]
    assert "matches_prefix" not in out
    sub = next(i for i, x in enumerate(lines) if "subscriptions/order-events-pipeline " in x)
    request = json.loads(lines[sub + 1])
    assert "deadLetterPolicy" not in request
    assert "retryPolicy" not in request


def test_apply_needs_the_project_number(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_info:
        infra_main(["diff", "--project", "demo-project", "--region", "europe-west1"])
    assert exit_info.value.code == 2
    assert "--project-number is needed" in capsys.readouterr().err
    # without raw landing, still: the Compute Engine default account is named by the number
    with pytest.raises(SystemExit) as exit_info:
        infra_main(["diff", "--project", "demo-project", "--region", "r", "--no-raw-landing"])
    assert exit_info.value.code == 2
    assert "Compute Engine default service account" in capsys.readouterr().err


# Cloud Storage: the real client, its HTTP methods recorded ---------------------------------


class RecordingStorage:
    """Stands in for the storage client's HTTP methods; the library builds every body."""

    def __init__(self, existing: dict[str, Any] | None) -> None:
        self.existing = existing
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def install(self, client: storage.Client) -> None:
        def get(path: str, **_: Any) -> dict[str, Any]:
            if self.existing is None:
                raise exceptions.NotFound(f"{path} not found")
            return self.existing

        def post(path: str, data: dict[str, Any], **_: Any) -> dict[str, Any]:
            data = json.loads(json.dumps(data))  # serialized when sent, as over HTTP
            self.sent.append(("POST", path, data))
            return data

        def patch(path: str, data: dict[str, Any], **_: Any) -> dict[str, Any]:
            data = json.loads(json.dumps(data))
            self.sent.append(("PATCH", path, data))
            return {**(self.existing or {}), **data}

        client._get_resource = get
        client._post_resource = post
        client._patch_resource = patch


def _storage(existing: dict[str, Any] | None) -> tuple[storage.Client, RecordingStorage]:
    client = storage.Client(project="demo-project", credentials=AnonymousCredentials())
    recording = RecordingStorage(existing)
    recording.install(client)
    return client, recording


def test_a_new_bucket_is_created_with_prefix_lifecycle_rules():
    client, recording = _storage(None)
    step = _steps("storage.bucket")[0]  # the job's bucket (the build source bucket follows)
    assert ensure_storage.ensure_bucket(_context(storage=client), step) == [
        "create in europe-west1"
    ]
    ((method, path, body),) = recording.sent
    assert (method, path) == ("POST", "/b")
    assert body["name"] == "demo-project-ecom-ingest"
    assert body["location"] == "europe-west1"
    assert body["lifecycle"]["rule"] == [
        {
            "action": {"type": "Delete"},
            "condition": {"age": 7, "matchesPrefix": ["temp/", "staging/"]},
        },
        {
            "action": {"type": "Delete"},
            "condition": {"age": 90, "matchesPrefix": ["dead_letters/"]},
        },
    ]
    assert body["iamConfiguration"]["publicAccessPrevention"] == "enforced"
    assert body["iamConfiguration"]["uniformBucketLevelAccess"] == {"enabled": True}


def test_a_bucket_with_a_prefixless_rule_is_patched_to_keep_dead_letters():
    # What the old request produced: the prefix dropped, everything deleted after 7 days.
    existing = {
        "name": "demo-project-ecom-ingest",
        "lifecycle": {"rule": [{"action": {"type": "Delete"}, "condition": {"age": 7}}]},
        "iamConfiguration": {
            "uniformBucketLevelAccess": {"enabled": True},
            "publicAccessPrevention": "enforced",
        },
    }
    client, recording = _storage(existing)
    step = _steps("storage.bucket")[0]  # the job's bucket (the build source bucket follows)
    assert ensure_storage.ensure_bucket(_context(storage=client), step) == ["set lifecycle rules"]
    ((method, path, body),) = recording.sent
    assert (method, path) == ("PATCH", "/b/demo-project-ecom-ingest")
    conditions = [rule["condition"] for rule in body["lifecycle"]["rule"]]
    assert conditions == [
        {"age": 7, "matchesPrefix": ["temp/", "staging/"]},
        {"age": 90, "matchesPrefix": ["dead_letters/"]},
    ]
    recording.existing = {**existing, "lifecycle": body["lifecycle"]}
    recording.sent.clear()
    assert ensure_storage.ensure_bucket(_context(storage=client), step) == []  # idempotent
    assert recording.sent == []


# BigQuery: the real client, its HTTP call recorded ----------------------------------------


class RecordingBigQuery:
    """The BigQuery client's HTTP boundary (``Client._call_api``), answering from a table store."""

    def __init__(self, tables: dict[str, dict[str, Any]]) -> None:
        self.tables = tables
        self.sent: list[tuple[str, str, Any]] = []

    def __call__(self, retry: Any, **kwargs: Any) -> Any:
        method, path, data = kwargs["method"], kwargs["path"], kwargs.get("data")
        self.sent.append((method, path, json.loads(json.dumps(data))))  # serialized, as sent
        data = json.loads(json.dumps(data))
        table = path.rsplit("/", 1)[-1]
        if method == "GET":
            if table not in self.tables:
                raise exceptions.NotFound(f"Not found: Table {table}")
            return self.tables[table]
        if method == "POST":
            table = data["tableReference"]["tableId"]
            self.tables[table] = {**data, "etag": "e0"}
            return self.tables[table]
        if method == "PATCH":
            self.tables[table] = {**self.tables[table], **data, "etag": "e1"}
            return self.tables[table]
        raise AssertionError(f"unexpected {method} {path}")


def _bigquery(tables: dict[str, dict[str, Any]]) -> tuple[bigquery.Client, RecordingBigQuery]:
    client = bigquery.Client(project="demo-project", credentials=AnonymousCredentials())
    recording = RecordingBigQuery(tables)
    client._call_api = recording  # type: ignore[method-assign,assignment]
    return client, recording


def test_a_missing_table_is_created_through_the_tables_api():
    client, recording = _bigquery({})
    step = next(s for s in _steps("bigquery.table") if s.name.endswith(".fact_inventory"))
    assert ensure_bigquery.ensure_table(_context(bigquery=client), step) == ["create"]
    method, path, body = recording.sent[-1]
    assert (method, path) == ("POST", "/projects/demo-project/datasets/events/tables")
    assert body["timePartitioning"] == {"type": "DAY", "field": "event_date"}
    assert body["clustering"] == {"fields": ["product_id", "reason"]}
    generated = WAREHOUSE_TABLES["fact_inventory"]["api"]["schema"]["fields"]
    assert body["schema"]["fields"] == generated


def _live_table(fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "tableReference": {"projectId": "demo-project", "datasetId": "events", "tableId": "t"},
        "schema": {"fields": fields},
        "etag": "e0",
    }


def _target_step(fields: list[dict[str, Any]]) -> Step:
    table = bigquery.Table.from_api_repr(_live_table(fields))
    return Step("bigquery.table_schema", "demo-project.events.t: schema", table)


NESTED_LIVE: list[dict[str, Any]] = [
    {"name": "id", "type": "STRING", "mode": "REQUIRED"},
    {
        "name": "coupon",
        "type": "RECORD",
        "mode": "NULLABLE",
        "fields": [{"name": "code", "type": "STRING", "mode": "REQUIRED"}],
    },
]
NESTED_TARGET: list[dict[str, Any]] = [
    {"name": "id", "type": "STRING", "mode": "REQUIRED"},
    {
        "name": "coupon",
        "type": "RECORD",
        "mode": "NULLABLE",
        "fields": [
            {"name": "code", "type": "STRING", "mode": "NULLABLE"},
            {"name": "percent", "type": "INTEGER", "mode": "NULLABLE"},
        ],
    },
    {
        "name": "stored_at",
        "type": "TIMESTAMP",
        "mode": "NULLABLE",
        "defaultValueExpression": "CURRENT_TIMESTAMP()",
    },
]


def test_schema_changes_ddl_cannot_express_are_patched_through_the_tables_api():
    client, recording = _bigquery({"t": _live_table(NESTED_LIVE)})
    actions = ensure_bigquery.ensure_table_schema(
        _context(bigquery=client), _target_step(NESTED_TARGET)
    )
    assert actions == [
        "relax coupon.code to NULLABLE; add NULLABLE INTEGER coupon.percent; "
        "add NULLABLE TIMESTAMP stored_at",
        "set stored_at DEFAULT CURRENT_TIMESTAMP()",
    ]
    patches = [body for method, _, body in recording.sent if method == "PATCH"]
    first, second = (patch["schema"]["fields"] for patch in patches)
    assert first[1]["fields"] == [
        {"name": "code", "type": "STRING", "mode": "NULLABLE"},
        {"name": "percent", "type": "INTEGER", "mode": "NULLABLE"},
    ]
    assert "defaultValueExpression" not in first[2]  # the column first, then its default
    assert second[2]["defaultValueExpression"] == "CURRENT_TIMESTAMP()"
    recording.sent.clear()
    assert (
        ensure_bigquery.ensure_table_schema(_context(bigquery=client), _target_step(NESTED_TARGET))
        == []
    )
    assert [method for method, _, _ in recording.sent] == ["GET"]


def test_a_diff_reads_the_table_and_patches_nothing():
    client, recording = _bigquery({"t": _live_table(NESTED_LIVE)})
    context = _context(bigquery=client)
    context.changes = False
    assert ensure_bigquery.ensure_table_schema(context, _target_step(NESTED_TARGET))
    assert [method for method, _, _ in recording.sent] == ["GET"]


def test_what_cannot_change_in_place_is_a_warning_not_a_change():
    live = [*NESTED_LIVE, {"name": "legacy", "type": "STRING", "mode": "NULLABLE"}]
    target = [{**NESTED_LIVE[0], "type": "BYTES"}, NESTED_LIVE[1]]
    client, _ = _bigquery({"t": _live_table(live)})
    context = _context(bigquery=client)
    assert ensure_bigquery.ensure_table_schema(context, _target_step(target)) == []
    assert context.warnings == [
        "demo-project.events.t.id: live type STRING, generated BYTES (a widening is a "
        "migration; anything else cannot change in place)",
        "demo-project.events.t.legacy: in the live table but not generated (kept)",
    ]


class FakeQueries:
    """BigQuery query jobs (migrations, views): a fake at the client call."""

    def __init__(self, views: dict[str, str], ledger: set[int] | None = None) -> None:
        self.views = views
        self.ledger = ledger
        self.queries: list[str] = []
        self._rows: list[tuple[int]] = []

    def get_table(self, name: str) -> Any:
        if name not in self.views:
            raise exceptions.NotFound(name)
        table = bigquery.Table(name.replace(":", "."))
        table.view_query = self.views[name]
        return table

    def query(self, sql: str) -> Any:
        self.queries.append(sql)
        self._rows = []
        if sql.startswith("SELECT number FROM"):
            if self.ledger is None:
                raise exceptions.NotFound("Not found: Table _migrations")
            self._rows = [(number,) for number in sorted(self.ledger)]
        elif sql.startswith("CREATE TABLE IF NOT EXISTS") and self.ledger is None:
            self.ledger = set()
        elif sql.startswith("INSERT INTO") and self.ledger is not None:
            self.ledger.add(int(sql.rsplit("(", 1)[1].rstrip(")")))
        return self

    def result(self) -> list[tuple[int]]:
        return self._rows


def test_views_are_replaced_only_when_their_query_changes():
    step = next(s for s in _steps("bigquery.view") if s.name.endswith("fact_inventory_dedup"))
    fake = FakeQueries({})
    assert ensure_bigquery.ensure_view(_context(bigquery=fake), step) == ["create"]
    assert fake.queries == [step.request]
    select = step.request.split("\nAS ", 1)[1].removesuffix(";\n")
    fake = FakeQueries({step.name: select})
    assert ensure_bigquery.ensure_view(_context(bigquery=fake), step) == []
    assert fake.queries == []


# IAM: fakes at the client call ----------------------------------------------------------


class FakeIam:
    """A ``google.iam.v1`` policy endpoint with scripted write failures."""

    def __init__(self, failures: list[Exception], policy: policy_pb2.Policy) -> None:
        self.failures = failures
        self.policy = policy
        self.reads: list[iam_policy_pb2.GetIamPolicyRequest] = []
        self.writes: list[iam_policy_pb2.SetIamPolicyRequest] = []

    def get_iam_policy(self, request: iam_policy_pb2.GetIamPolicyRequest) -> policy_pb2.Policy:
        assert isinstance(request, iam_policy_pb2.GetIamPolicyRequest)
        self.reads.append(request)
        copy = policy_pb2.Policy()
        copy.CopyFrom(self.policy)
        return copy

    def set_iam_policy(self, request: iam_policy_pb2.SetIamPolicyRequest) -> policy_pb2.Policy:
        self.writes.append(request)
        if self.failures:
            raise self.failures.pop(0)
        self.policy = request.policy
        return request.policy


def _conditional_policy() -> policy_pb2.Policy:
    policy = policy_pb2.Policy(version=3, etag=b"e1")
    policy.bindings.add(
        role="roles/dataflow.worker",
        members=["user:oncall@example.com"],
        condition=expr_pb2.Expr(title="office hours", expression="request.time.getHours() < 18"),
    )
    return policy


def test_project_policies_are_read_as_version_3_and_conditions_survive():
    step = next(
        s for s in _steps("iam.project_binding") if s.request.role == "roles/dataflow.worker"
    )
    fake = FakeIam([], _conditional_policy())
    actions = ensure_iam.ensure_project_binding(_context(projects=fake), step)
    assert actions == [
        "grant roles/dataflow.worker to "
        "serviceAccount:ecom-ingest-pipeline@demo-project.iam.gserviceaccount.com"
    ]
    assert fake.reads[0].options.requested_policy_version == 3
    written = fake.writes[0].policy
    assert written.version == 3
    conditional, granted = written.bindings
    assert conditional.condition.title == "office hours"
    assert list(conditional.members) == ["user:oncall@example.com"]  # not widened
    assert not granted.HasField("condition")
    assert list(granted.members) == [step.request.members[0]]
    assert ensure_iam.ensure_project_binding(_context(projects=fake), step) == []


@pytest.mark.parametrize(
    "failure",
    [
        exceptions.Aborted("There were concurrent policy changes."),
        exceptions.BadRequest("Service account ecom-ingest-pipeline@x does not exist."),
    ],
    ids=["etag-conflict", "new-service-account"],
)
def test_iam_writes_are_retried_with_a_fresh_read(failure: Exception):
    step = _steps("iam.pubsub_binding")[0]
    fake = FakeIam([failure, failure], policy_pb2.Policy())
    slept: list[float] = []
    context = _context(subscriber=fake)
    context.sleep = slept.append
    (action,) = ensure_iam.ensure_pubsub_binding(context, step)
    assert action.endswith("(after 2 retries)")
    assert len(fake.reads) == len(fake.writes) == 3
    assert slept == [2.0, 4.0]


def test_iam_retries_are_bounded_and_other_errors_fail_at_once():
    step = _steps("iam.pubsub_binding")[0]
    fake = FakeIam([exceptions.Aborted("conflict")] * 10, policy_pb2.Policy())
    with pytest.raises(InfraError, match="after 8 attempt"):
        ensure_iam.ensure_pubsub_binding(_context(subscriber=fake), step)
    fake = FakeIam([exceptions.BadRequest("malformed member")], policy_pb2.Policy())
    with pytest.raises(InfraError, match="after 1 attempt"):
        ensure_iam.ensure_pubsub_binding(_context(subscriber=fake), step)


def test_the_job_may_read_its_own_schemas_and_is_granted_on_the_schema_itself():
    member = "serviceAccount:ecom-ingest-pipeline@demo-project.iam.gserviceaccount.com"
    on_schemas = [s for s in _steps("iam.pubsub_binding") if "/schemas/" in s.context["resource"]]
    assert {s.context["resource"] for s in on_schemas} == {
        f"projects/demo-project/schemas/{schema}"
        for schema in ("order-event", "inventory-event", "user-activity-event")
    }
    assert {(s.request.role, tuple(s.request.members)) for s in on_schemas} == {
        ("roles/pubsub.viewer", (member,))
    }
    schemas, subscriber = FakeIam([], policy_pb2.Policy()), FakeIam([], policy_pb2.Policy())
    (action,) = ensure_iam.ensure_pubsub_binding(
        _context(schemas=schemas, subscriber=subscriber), on_schemas[0]
    )
    assert action == f"grant roles/pubsub.viewer to {member}"
    assert [r.resource for r in schemas.reads] == [on_schemas[0].context["resource"]]
    assert not subscriber.reads


# run.sh and the worker image -----------------------------------------------------------------


def _run_sh(*args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "run.sh"), *args],
        env={**os.environ, "PROJECT": "demo-project", "REGION": "europe-west1", "DRY_RUN": "1",
             "PY": sys.executable, "TAG": "t1", **env},
        capture_output=True, text=True, check=check, cwd=ROOT,
    )  # fmt: skip


def test_run_sh_launches_the_worker_image_by_default():
    command = _run_sh("launch").stdout
    for flag in (
        "--runner DataflowRunner",
        "--streaming",
        "--enable_streaming_engine",
        "--region europe-west1",
        "--max_num_workers 5",
        "--service_account_email ecom-ingest-pipeline@demo-project.iam.gserviceaccount.com",
        "--temp_location gs://demo-project-ecom-ingest/temp",
        "--sdk_container_image europe-west1-docker.pkg.dev/demo-project/ecom-ingest/worker:t1",
        "--sdk_location container",
        "--dead_letter_prefix gs://demo-project-ecom-ingest/dead_letters",
    ):
        assert flag in command, flag
    assert "--setup_file" not in command  # the package is in the image
    assert "--update" not in command
    assert "streaming_mode_at_least_once" not in command


def test_run_sh_options_setup_file_private_workers_and_at_least_once():
    setup_file = _run_sh("launch", PACKAGING="setup_file").stdout
    assert "-m build --wheel --no-isolation --outdir dist producer" in setup_file
    version = tomllib.loads((ROOT / "producer" / "pyproject.toml").read_text())["project"][
        "version"
    ]
    wheel = f"dist/ecom_contracts-{version}-py3-none-any.whl"
    assert f"--setup_file ./setup.py --extra_package {wheel}" in setup_file
    private = _run_sh("launch", NO_PUBLIC_IPS="1", SUBNETWORK="regions/r/subnetworks/s").stdout
    assert "--no_use_public_ips --subnetwork regions/r/subnetworks/s" in private
    refused = _run_sh("launch", check=False, NO_PUBLIC_IPS="1", PACKAGING="setup_file")
    assert refused.returncode == 2
    assert "cannot install from PyPI; use PACKAGING=container" in refused.stderr
    cheaper = _run_sh("launch", STREAMING_MODE="at_least_once").stdout
    assert "--dataflow_service_options=streaming_mode_at_least_once" in cheaper
    update = _run_sh("update", TRANSFORM_NAME_MAPPING='{"Old":"New"}').stdout
    assert "--update" in update
    assert "Old" in update


def test_run_sh_image_builds_the_wheel_then_the_image_with_cloud_build():
    lines = _run_sh("image").stdout.splitlines()
    assert "-m build --wheel --no-isolation --outdir dist producer" in lines[1]
    assert "-m build --wheel --no-isolation --outdir dist ." in lines[2]
    image = "europe-west1-docker.pkg.dev/demo-project/ecom-ingest/worker:t1"
    config = [line.removeprefix("# build config: ") for line in lines[3:-1]]
    assert config == [
        "steps:",
        "- name: gcr.io/cloud-builders/docker",
        f"  args: [build, --tag, '{image}', .]",
        f"images: ['{image}']",
        "options:",
        "  logging: CLOUD_LOGGING_ONLY",
    ]
    assert re.fullmatch(
        "gcloud builds submit --project demo-project --region europe-west1 --config \\S+ "
        "--gcs-source-staging-dir gs://demo-project_cloudbuild/source .",
        lines[-1],
    )


def test_run_sh_image_uses_the_bucket_and_account_the_plan_grants():
    account = "builder@demo-project.iam.gserviceaccount.com"
    lines = _run_sh("image", BUILD_SERVICE_ACCOUNT=account).stdout.splitlines()
    assert f"# build config: serviceAccount: projects/demo-project/serviceAccounts/{account}" in (
        lines
    )
    settings = Settings("demo-project", "europe-west1", build_service_account=account)
    (bucket,) = [s for s in build_plan(settings) if s.name.endswith("_cloudbuild")]
    (rule,) = bucket.request.lifecycle_rules
    (prefix,) = rule["condition"]["matchesPrefix"]
    assert f"--gcs-source-staging-dir {bucket.name}/{prefix.rstrip('/')} ." in lines[-1]


def test_run_sh_usage_errors_exit_2():
    assert _run_sh("bogus", check=False).returncode == 2
    assert _run_sh("launch", check=False, STREAMING_MODE="sometimes").returncode == 2
    assert _run_sh("--help").stdout.startswith("Build the worker image")


def test_worker_image_is_beams_sdk_image_of_the_pinned_versions():
    dockerfile = (ROOT / "Dockerfile").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    beam = next(d for d in project["dependencies"] if d.startswith("apache-beam"))
    pinned = beam.split("==")[1]
    assert f"ARG BEAM_VERSION={pinned}\n" in dockerfile
    python = re.search(r">=(\d+\.\d+)", project["requires-python"])
    assert python is not None
    assert f"FROM apache/beam_python{python.group(1)}_sdk:${{BEAM_VERSION}}" in dockerfile
    assert "pip install --no-cache-dir" in dockerfile
    assert "/tmp/dist/ecom_contracts-*.whl /tmp/dist/ecom_ingest-*.whl" in dockerfile
    ignored = (ROOT / ".gcloudignore").read_text().splitlines()
    assert ignored[1:] == ["*", "!Dockerfile", "!dist/", "!dist/*.whl"]


def test_worker_dependencies_leave_out_the_tooling():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"])
    for tooling in ("duckdb", "sqlglot", "google-cloud-iam", "google-cloud-resource-manager"):
        assert tooling not in runtime


def test_a_migration_runs_once_and_is_recorded():
    (step,) = migration_steps(
        SETTINGS, {2: "ALTER TABLE `events.fact_inventory` ALTER COLUMN x DROP NOT NULL;\n"}
    )
    fake = FakeQueries({})
    diff = _context(bigquery=fake)
    diff.changes = False
    assert ensure_bigquery.ensure_migration(diff, step) == [
        "run migration 0002 and record it in demo-project.events._migrations"
    ]
    assert fake.queries == ["SELECT number FROM `demo-project.events._migrations`"]  # read only
    assert ensure_bigquery.ensure_migration(_context(bigquery=fake), step)
    assert step.request in fake.queries
    assert fake.ledger == {2}
    fake.queries.clear()
    assert ensure_bigquery.ensure_migration(_context(bigquery=fake), step) == []
    assert fake.queries == ["SELECT number FROM `demo-project.events._migrations`"]


def test_raw_partitions_expire_as_planned_and_the_change_is_patched():
    step = next(s for s in _steps("bigquery.table") if s.name.endswith("raw_order_events"))
    live = step.request.to_api_repr()
    del live["timePartitioning"]["expirationMs"]  # created before the retention was set
    client, recording = _bigquery({"raw_order_events": live})
    assert ensure_bigquery.ensure_table(_context(bigquery=client), step) == [
        "partitions expire after 90 days"
    ]
    ((_, _, body),) = [entry for entry in recording.sent if entry[0] == "PATCH"]
    assert body["timePartitioning"]["expirationMs"] == str(90 * 86_400_000)
    recording.sent.clear()
    assert ensure_bigquery.ensure_table(_context(bigquery=client), step) == []


class FakeSubscriber:
    """Pub/Sub subscription creation refusing while a table grant propagates (a fake)."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.created: list[Any] = []

    def get_subscription(self, request: Any) -> Any:
        raise exceptions.NotFound("no subscription")

    def create_subscription(self, request: Any) -> Any:
        if self.refusals:
            self.refusals -= 1
            raise exceptions.PermissionDenied("The caller does not have permission")
        self.created.append(request)
        return request


def test_a_raw_landing_subscription_waits_for_its_table_grant():
    from ops.infra.ensure_pubsub import ensure_subscription

    raw = next(s for s in _steps("pubsub.subscription") if s.name.endswith("-raw"))
    fake = FakeSubscriber(refusals=2)
    assert ensure_subscription(_context(subscriber=fake), raw) == ["create (after 2 retries)"]
    assert fake.created == [raw.request]
    pipeline = next(s for s in _steps("pubsub.subscription") if s.name.endswith("-pipeline"))
    with pytest.raises(InfraError, match="after 1 attempt"):  # no table: no reason to wait
        ensure_subscription(_context(subscriber=FakeSubscriber(refusals=1)), pipeline)
