"""Monitoring's plan (alerting policies, dashboard) and its idempotent apply.

Nothing local can answer the Monitoring API, so the apply functions are
checked against fakes at the client boundary: the two client objects and the
apply context's ``change``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import monitoring_dashboard_v1, monitoring_v3
from google.protobuf import duration_pb2

from ops.infra import alerts
from ops.infra.alerts import alert_policies, dashboard, monitoring_steps
from ops.infra.context import Clients, Context
from ops.infra.ensure_monitoring import ensure_alert_policy, ensure_dashboard, holds
from ops.infra.settings import Settings, Step
from pipeline.deadletter import REASON_NAMES

ROOT = Path(__file__).resolve().parents[2]
CHANNEL = "projects/demo-project/notificationChannels/42"
SETTINGS = Settings("demo-project", "europe-west1", notification_channels=(CHANNEL,))
Aligner = monitoring_v3.Aggregation.Aligner
Severity = monitoring_v3.AlertPolicy.Severity
Condition = monitoring_v3.AlertPolicy.Condition
USER_COUNTER = '"dataflow.googleapis.com/job/user_counter"'


def _policies(settings: Settings = SETTINGS) -> dict[str, monitoring_v3.AlertPolicy]:
    return {policy.display_name: policy for policy in alert_policies(settings)}


def _query(policy: monitoring_v3.AlertPolicy) -> str:
    (condition,) = policy.conditions
    return str(condition.condition_prometheus_query_language.query)


def _seconds(duration: Any) -> float:
    # proto-plus reads Duration fields back as datetime.timedelta (the stubs say Duration).
    return float(duration.total_seconds())


def _step(kind: str, name: str = "") -> Step:
    return next(
        s for s in monitoring_steps(SETTINGS) if s.kind == kind and (not name or s.name == name)
    )


def test_steps_are_one_per_policy_then_the_dashboard():
    steps = monitoring_steps(SETTINGS)
    assert [s.kind for s in steps] == ["monitoring.alert_policy"] * 9 + ["monitoring.dashboard"]
    assert [s.name for s in steps[:-1]] == [
        "ecom-ingest: decode_error dead letters",
        "ecom-ingest: invalid dead letters",
        "ecom-ingest: unknown_event dead letters",
        "ecom-ingest: modeling_error dead letters",
        "ecom-ingest: rows refused by BigQuery",
        "ecom-ingest: BigQuery unavailable",
        "ecom-ingest: subscription backlog",
        "ecom-ingest: system lag",
        "ecom-ingest: data freshness",
    ]
    assert all(s.name == s.request.display_name and s.why for s in steps[:-1])
    assert steps[-1].name == "projects/demo-project/dashboards/ecom-ingest"
    assert steps[-1].request.name == steps[-1].name


def test_every_request_is_a_valid_message_that_round_trips_through_json():
    for step in monitoring_steps(SETTINGS):
        kind = type(step.request)
        assert kind in (monitoring_v3.AlertPolicy, monitoring_dashboard_v1.Dashboard)
        assert kind.from_json(kind.to_json(step.request)) == step.request


def test_every_policy_is_managed_documented_and_notifies_the_channels():
    for policy in alert_policies(SETTINGS):
        assert policy.display_name.startswith("ecom-ingest: ")
        assert dict(policy.user_labels) == {"managed-by": "ecom-ingest"}
        assert policy.combiner == monitoring_v3.AlertPolicy.ConditionCombinerType.OR
        assert policy.enabled  # a bool once read back (proto-plus unwraps BoolValue)
        assert list(policy.notification_channels) == [CHANNEL]
        assert policy.severity != Severity.SEVERITY_UNSPECIFIED
        assert policy.documentation.mime_type == "text/markdown"
        content = policy.documentation.content
        assert "**First steps.**" in content
        assert "https://console.cloud.google.com/dataflow/jobs?project=demo-project" in content
        assert "gs://demo-project-ecom-ingest/dead_letters/" in content
        assert 'README, section "Deploy to Google Cloud"' in content
        assert 1 <= len(policy.conditions) <= 6
        assert len({c.display_name for c in policy.conditions}) == len(policy.conditions)


def test_alerted_reasons_are_reasons_the_pipeline_counts():
    assert set(alerts.DEAD_LETTER_REASONS) <= set(REASON_NAMES.values())


@pytest.mark.parametrize("reason", ["decode_error", "invalid", "unknown_event", "modeling_error"])
def test_dead_letter_policy_pages_on_the_growth_of_its_reason_over_ten_minutes(reason):
    policy = _policies()[f"ecom-ingest: {reason} dead letters"]
    query = _query(policy)
    counters = (
        "{" + USER_COUNTER + ', monitored_resource="dataflow_job", job_name="ecom-ingest", '
        f'metric_name=~".+[.]{reason}"' + "}"
    )
    assert query == (
        f"sum by (job_name) ((delta({counters}[10m] offset 4m) and {counters} offset 14m)"
        f" or ({counters} offset 4m unless {counters} offset 14m)) > 100"
    )
    assert str(policy.documentation.content).count(f"--reason {reason} --dry-run") == 1
    expected = Severity.ERROR if reason == "modeling_error" else Severity.WARNING
    assert policy.severity == expected
    (condition,) = policy.conditions
    assert _seconds(condition.condition_prometheus_query_language.evaluation_interval) == 60


def test_counters_are_only_read_through_promql_since_delta_aligners_reject_gauges():
    # ALIGN_DELTA and ALIGN_RATE are valid for CUMULATIVE and DELTA metrics only; the
    # exported Beam counters are GAUGEs, so they never appear in a threshold condition.
    for policy in alert_policies(SETTINGS):
        for condition in policy.conditions:
            threshold = condition.condition_threshold
            if "condition_threshold" in condition:
                assert "user_counter" not in threshold.filter
                aligners = {a.per_series_aligner for a in threshold.aggregations}
                assert aligners == {Aligner.ALIGN_MIN}
            else:
                assert USER_COUNTER in condition.condition_prometheus_query_language.query
                assert len(policy.conditions) == 1


def test_sink_policies_page_on_any_growth_in_five_minutes():
    policies = _policies()
    unavailable = policies["ecom-ingest: BigQuery unavailable"]
    rejected = policies["ecom-ingest: rows refused by BigQuery"]
    assert unavailable.severity == Severity.CRITICAL
    assert rejected.severity == Severity.ERROR
    for policy, outcome in ((unavailable, "sink_unavailable"), (rejected, "sink_rejected")):
        query = _query(policy)
        assert f'metric_name=~".+[.]{outcome}"' in query
        assert "[5m] offset 4m" in query
        assert "offset 9m" in query
        assert query.endswith(" > 0")


def test_backlog_policy_watches_pipeline_and_raw_subscriptions():
    policy = _policies()["ecom-ingest: subscription backlog"]
    pipeline, raw = (c.condition_threshold for c in policy.conditions)
    assert pipeline.filter == (
        'resource.type = "pubsub_subscription" AND metric.type = '
        '"pubsub.googleapis.com/subscription/oldest_unacked_message_age" AND '
        "resource.labels.subscription_id = monitoring.regex.full_match("
        '"inventory-events-pipeline|order-events-pipeline|user-activity-events-pipeline")'
    )
    assert pipeline.threshold_value == 600
    assert 'full_match("inventory-events-raw|order-events-raw|user-activity-events-raw")' in (
        raw.filter
    )
    assert raw.threshold_value == 1800
    for threshold in (pipeline, raw):
        assert threshold.comparison == monitoring_v3.ComparisonType.COMPARISON_GT
        (aggregation,) = threshold.aggregations
        assert aggregation.per_series_aligner == Aligner.ALIGN_MIN
        assert _seconds(aggregation.alignment_period) == 360


def test_backlog_policy_leaves_raw_subscriptions_out_without_raw_landing():
    settings = Settings("demo-project", "europe-west1", raw_landing=False)
    policy = _policies(settings)["ecom-ingest: subscription backlog"]
    (condition,) = policy.conditions
    assert condition.condition_threshold.threshold_value == 600
    assert "-raw" not in monitoring_v3.AlertPolicy.to_json(policy)


@pytest.mark.parametrize(
    ("title", "metric", "seconds"),
    [
        ("system lag", "dataflow.googleapis.com/job/system_lag", 300),
        ("data freshness", "dataflow.googleapis.com/job/data_watermark_age", 600),
    ],
)
def test_job_gauge_policies_threshold_the_job_with_min(title, metric, seconds):
    settings = Settings("demo-project", "europe-west1", job_name="ingest-2")
    (condition,) = _policies(settings)[f"ecom-ingest: {title}"].conditions
    threshold = condition.condition_threshold
    assert threshold.filter == (
        f'resource.type = "dataflow_job" AND metric.type = "{metric}" '
        'AND resource.labels.job_name = "ingest-2"'
    )
    assert threshold.threshold_value == seconds
    assert _seconds(threshold.duration) == 60
    assert [a.per_series_aligner for a in threshold.aggregations] == [Aligner.ALIGN_MIN]


def test_dashboard_charts_every_signal():
    board = dashboard(SETTINGS)
    assert board.display_name == "ecom-ingest pipeline"
    assert board.name == "projects/demo-project/dashboards/ecom-ingest"
    widgets = list(board.grid_layout.widgets)
    assert [w.title for w in widgets] == [
        "Messages processed per event (per 5 min)",
        "Dead letters by reason (per 5 min)",
        "Rows refused / BigQuery unavailable (per 5 min)",
        "Oldest unacknowledged message per subscription",
        "System lag",
        "Data freshness (watermark age)",
        "Event-time lag at processing (ms): mean and max",
    ]
    queries = [w.xy_chart.data_sets[0].time_series_query for w in widgets]
    assert 'metric_name=~".+[.]ok"' in queries[0].prometheus_query
    assert "label_replace(delta(" in queries[1].prometheus_query
    assert "sink_rejected|sink_unavailable" in queries[2].prometheus_query
    filters = [q.time_series_filter for q in queries[3:6]]
    assert "user-activity-events-raw" in filters[0].filter
    assert "job/system_lag" in filters[1].filter
    assert "job/data_watermark_age" in filters[2].filter
    gauge = monitoring_dashboard_v1.Aggregation.Aligner
    assert [f.aggregation.per_series_aligner for f in filters] == [
        gauge.ALIGN_MAX,
        gauge.ALIGN_MAX,
        gauge.ALIGN_MAX,
    ]
    assert [t.value for t in widgets[4].xy_chart.thresholds] == [300]


def _offset_seconds(text: str) -> int:
    return int(text[:-1]) * {"s": 1, "m": 60, "h": 3600}[text[-1]]


def test_every_policy_allows_for_the_metrics_visibility_delay():
    # Dataflow's (and Pub/Sub's) metric points are sampled every 60 s and visible up to 240 s
    # later: no policy may read the newest 240 s as if they were complete.
    delay = 240
    assert delay == alerts.VISIBILITY_DELAY
    for policy in alert_policies(SETTINGS):
        for condition in policy.conditions:
            assert "condition_absent" not in condition, policy.display_name
            if "condition_prometheus_query_language" in condition:
                query = condition.condition_prometheus_query_language.query
                ranges = re.findall(r"\[(\d+[smh])\]( offset (\d+[smh]))?", query)
                instants = re.findall(r"\}(?!\[)( offset (\d+[smh]))?", query)
                assert ranges, query
                assert instants, query
                for window, shifted, offset in ranges:
                    assert shifted, f"a range that ends now: {query}"
                    assert _offset_seconds(offset) >= delay
                    # the lookback is the delay plus the policy's own window
                    starts = {_offset_seconds(o) for _, o in instants if o}
                    assert _offset_seconds(offset) + _offset_seconds(window) in starts
                for shifted, offset in instants:
                    assert shifted, query
                    assert _offset_seconds(offset) >= delay, query
            else:
                threshold = condition.condition_threshold
                (aggregation,) = threshold.aggregations
                # at least two samples visible in every aligned window, and the window is above
                # the threshold only when all of them are: one late or stray point decides nothing
                assert _seconds(aggregation.alignment_period) >= delay + 2 * 60
                assert aggregation.per_series_aligner == Aligner.ALIGN_MIN
                missing = threshold.evaluation_missing_data
                assert missing == Condition.EvaluationMissingData.EVALUATION_MISSING_DATA_NO_OP


def test_distributions_are_charted_by_their_mean_and_max_metrics():
    # Dataflow presents a Beam distribution as one metric per statistic: name_MIN, name_MAX,
    # name_MEAN, name_COUNT. A chart names the statistic it means, exactly.
    (widget,) = [w for w in dashboard(SETTINGS).grid_layout.widgets if "Event-time lag" in w.title]
    data = [d.time_series_query.time_series_filter for d in widget.xy_chart.data_sets]
    gauge = monitoring_dashboard_v1.Aggregation.Aligner
    assert [(f.filter.rsplit(" AND ", 1)[-1], f.aggregation.per_series_aligner) for f in data] == [
        ('metric.labels.metric_name = "event_time_lag_ms_MEAN"', gauge.ALIGN_MEAN),
        ('metric.labels.metric_name = "event_time_lag_ms_MAX"', gauge.ALIGN_MAX),
    ]
    everything = monitoring_dashboard_v1.Dashboard.to_json(dashboard(SETTINGS)) + "".join(
        monitoring_v3.AlertPolicy.to_json(p) for p in alert_policies(SETTINGS)
    )
    mentions = re.findall(r"event_time_lag_ms\w*", everything)
    assert sorted(set(mentions)) == ["event_time_lag_ms_MAX", "event_time_lag_ms_MEAN"]
    with pytest.raises(ValueError, match="not one of"):
        alerts._distribution_filter(SETTINGS, "event_time_lag_ms", "P99")


def test_the_charted_distribution_is_the_one_the_pipeline_records():
    from pipeline.transforms import ProcessFn

    assert ProcessFn().lag.metric_name.name == alerts.EVENT_TIME_LAG


def test_the_readme_promises_only_alerts_the_plan_creates():
    readme = (ROOT / "README.md").read_text()
    titles = {p.display_name.removeprefix(alerts.PREFIX) for p in alert_policies(SETTINGS)}
    named = [
        name
        for phrase in re.finditer(r'((?:"[^"]+"(?:, | and | or ))*"[^"]+")\s+alerts?\b', readme)
        for name in re.findall(r'"([^"]+)"', phrase.group(1))
    ]
    assert named, "the README names the alerts it relies on by their titles"
    assert set(named) <= titles
    # An alert the README once promised without a policy behind it: either it exists or the
    # README does not claim it.
    for claim in ("error rate",):
        flat = " ".join(readme.lower().split())
        assert claim not in flat or any(claim in title for title in titles), claim


class FakeAlertPolicies:
    """AlertPolicyServiceClient's three calls, over a list of stored policies."""

    def __init__(self, *stored: monitoring_v3.AlertPolicy) -> None:
        self.stored = list(stored)
        self.listed: list[monitoring_v3.ListAlertPoliciesRequest] = []
        self.created: list[monitoring_v3.CreateAlertPolicyRequest] = []
        self.updated: list[monitoring_v3.UpdateAlertPolicyRequest] = []

    def list_alert_policies(self, request: Any) -> list[Any]:
        self.listed.append(request)
        return list(self.stored)

    def create_alert_policy(self, request: Any) -> Any:
        self.created.append(request)
        return request.alert_policy

    def update_alert_policy(self, request: Any) -> Any:
        self.updated.append(request)
        return request.alert_policy


class FakeDashboards:
    """DashboardsServiceClient's three calls, over at most one stored dashboard."""

    def __init__(self, stored: monitoring_dashboard_v1.Dashboard | None = None) -> None:
        self.stored = stored
        self.created: list[monitoring_dashboard_v1.CreateDashboardRequest] = []
        self.updated: list[monitoring_dashboard_v1.UpdateDashboardRequest] = []

    def get_dashboard(self, request: Any) -> Any:
        if self.stored is None or self.stored.name != request.name:
            raise exceptions.NotFound(request.name)
        return self.stored

    def create_dashboard(self, request: Any) -> Any:
        self.created.append(request)
        return request.dashboard

    def update_dashboard(self, request: Any) -> Any:
        self.updated.append(request)
        return request.dashboard


class FakeContext(Context):
    """The real apply context over the two fake clients (``changes`` off for a diff run)."""

    def __init__(
        self,
        alert_policies: FakeAlertPolicies | None = None,
        dashboards: FakeDashboards | None = None,
        diff: bool = False,
    ) -> None:
        self.alert_policies = alert_policies or FakeAlertPolicies()
        self.dashboards = dashboards or FakeDashboards()
        super().__init__(
            Clients(alert_policies=self.alert_policies, dashboards=self.dashboards),
            SETTINGS,
            changes=not diff,
        )


def _stored(policy: monitoring_v3.AlertPolicy, number: int = 7) -> monitoring_v3.AlertPolicy:
    """Return ``policy`` as Monitoring stores it: with its name and its conditions' names."""
    stored: monitoring_v3.AlertPolicy = monitoring_v3.AlertPolicy.deserialize(
        monitoring_v3.AlertPolicy.serialize(policy)
    )
    stored.name = f"projects/demo-project/alertPolicies/{number}"
    for index, condition in enumerate(stored.conditions):
        condition.name = f"{stored.name}/conditions/{index}"
    return stored


def test_ensure_alert_policy_creates_a_missing_policy():
    step = _step("monitoring.alert_policy", "ecom-ingest: system lag")
    unmanaged = _stored(step.request)
    unmanaged.user_labels.clear()  # same display name, not ours: left alone
    ctx = FakeContext(FakeAlertPolicies(unmanaged))
    assert ensure_alert_policy(ctx, step) == ["create"]
    (created,) = ctx.alert_policies.created
    assert created.name == "projects/demo-project"
    assert created.alert_policy == step.request
    assert [r.name for r in ctx.alert_policies.listed] == ["projects/demo-project"]
    assert ctx.recorded == ["create"]


def test_ensure_alert_policy_leaves_an_equal_policy_alone():
    step = _step("monitoring.alert_policy", "ecom-ingest: subscription backlog")
    ctx = FakeContext(FakeAlertPolicies(_stored(step.request)))
    assert ensure_alert_policy(ctx, step) == []
    assert ctx.alert_policies.created == ctx.alert_policies.updated == []
    assert ctx.recorded == []


def test_ensure_alert_policy_updates_only_the_fields_that_differ():
    step = _step("monitoring.alert_policy", "ecom-ingest: subscription backlog")
    stale = _stored(step.request, number=9)
    stale.documentation.content = "old text"
    stale.conditions[1].condition_threshold.threshold_value = 3600
    stale.notification_channels = []
    ctx = FakeContext(FakeAlertPolicies(stale))
    action = "update conditions, documentation, notification_channels"
    assert ensure_alert_policy(ctx, step) == [action]
    (update,) = ctx.alert_policies.updated
    assert list(update.update_mask.paths) == [
        "conditions",
        "documentation",
        "notification_channels",
    ]
    sent = update.alert_policy
    assert sent.name == "projects/demo-project/alertPolicies/9"
    assert [c.name for c in sent.conditions] == [c.name for c in stale.conditions]
    assert sent.conditions[1].condition_threshold.threshold_value == 1800
    assert sent.documentation == step.request.documentation
    assert step.request.name == ""  # the plan's own object is left as planned
    assert ctx.recorded == [action]


def test_ensure_alert_policy_in_a_diff_run_records_but_changes_nothing():
    created = _step("monitoring.alert_policy", "ecom-ingest: data freshness")
    updated = _step("monitoring.alert_policy", "ecom-ingest: system lag")
    stale = _stored(updated.request)
    stale.severity = Severity(Severity.WARNING)
    ctx = FakeContext(FakeAlertPolicies(stale), diff=True)
    assert ensure_alert_policy(ctx, created) == ["create"]
    assert ensure_alert_policy(ctx, updated) == ["update severity"]
    assert ctx.alert_policies.created == ctx.alert_policies.updated == []
    assert ctx.recorded == ["create", "update severity"]


def _stored_dashboard(etag: str = "etag-1") -> monitoring_dashboard_v1.Dashboard:
    stored = dashboard(SETTINGS)
    stored.etag = etag
    return stored


def test_ensure_dashboard_creates_a_missing_dashboard_under_the_project():
    step = _step("monitoring.dashboard")
    ctx = FakeContext(dashboards=FakeDashboards())
    assert ensure_dashboard(ctx, step) == ["create"]
    (created,) = ctx.dashboards.created
    assert created.parent == "projects/demo-project"
    assert created.dashboard.name == "projects/demo-project/dashboards/ecom-ingest"
    assert created.dashboard == step.request


def test_ensure_dashboard_ignores_the_etag_when_comparing():
    step = _step("monitoring.dashboard")
    ctx = FakeContext(dashboards=FakeDashboards(_stored_dashboard()))
    assert ensure_dashboard(ctx, step) == []
    assert ctx.dashboards.created == ctx.dashboards.updated == []


def test_ensure_dashboard_replaces_a_changed_dashboard_with_the_etag_read():
    step = _step("monitoring.dashboard")
    stale = _stored_dashboard("etag-7")
    stale.display_name = "renamed by hand"
    ctx = FakeContext(dashboards=FakeDashboards(stale))
    assert ensure_dashboard(ctx, step) == ["update"]
    (update,) = ctx.dashboards.updated
    assert update.dashboard.etag == "etag-7"
    assert update.dashboard.name == step.name
    assert update.dashboard.display_name == "ecom-ingest pipeline"
    assert step.request.etag == ""


def test_ensure_dashboard_in_a_diff_run_creates_nothing():
    step = _step("monitoring.dashboard")
    ctx = FakeContext(dashboards=FakeDashboards(), diff=True)
    assert ensure_dashboard(ctx, step) == ["create"]
    assert ctx.dashboards.created == []
    assert ctx.recorded == ["create"]


def test_values_the_server_fills_in_are_not_differences():
    step = _step("monitoring.dashboard")
    stored = _stored_dashboard()
    chart = stored.grid_layout.widgets[0].xy_chart
    chart.chart_options = monitoring_dashboard_v1.ChartOptions(mode="COLOR")
    ctx = FakeContext(dashboards=FakeDashboards(stored))
    assert ensure_dashboard(ctx, step) == []  # a default the server added: no update
    policy_step = _step("monitoring.alert_policy", "ecom-ingest: system lag")
    served = _stored(policy_step.request)
    served.alert_strategy = monitoring_v3.AlertPolicy.AlertStrategy(
        auto_close=duration_pb2.Duration(seconds=7 * 86400)
    )
    served.conditions[0].condition_threshold.denominator_filter = ""
    ctx = FakeContext(FakeAlertPolicies(served))
    assert ensure_alert_policy(ctx, policy_step) == []
    assert holds({"a": 1, "b": [{"c": 2, "d": 3}]}, {"b": [{"c": 2}]})
    assert not holds({"a": 1, "b": [{"c": 2}]}, {"b": [{"c": 2}, {"c": 3}]})
    assert not holds({"a": 1}, {"a": 2})
