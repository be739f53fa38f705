"""Alerts: the pipeline's alerting policies and dashboard, as Cloud Monitoring's own objects.

What is alerted, and how
------------------------
The pipeline counts every outcome with a Beam counter (namespace ``ecom``):
``<Event>.ok``, ``<Event>.<reason>``, ``<table>.sink_rejected``,
``<table>.sink_unavailable``... Dataflow exports them as
``dataflow.googleapis.com/job/user_counter`` (label ``metric_name``), a
**GAUGE** holding each counter's running total. Alerting needs the *growth*
of that total over a window, and the usual threshold condition cannot say
so: the aligners that turn a total into a growth, ``ALIGN_DELTA`` and
``ALIGN_RATE``, are documented as "valid for CUMULATIVE and DELTA metrics"
only, while the aligners valid for GAUGE (``ALIGN_MAX``, ``ALIGN_MEAN``...)
summarise values, not their change. So every counter policy is one
PromQL condition (``condition_prometheus_query_language``, which the API
allows only as a policy's single condition) using ``delta()``, the PromQL
function meant for gauges (``increase()`` and ``rate()`` read every decrease
as a counter reset, which is the counter semantics, not a gauge's)::

    sum by (job_name) (
        (delta(C[10m] offset 4m) and C offset 14m)  # series that existed at the window's start
      or (C offset 4m unless C offset 14m)          # series born since: their whole total is new
    ) > 100

A Beam counter reaches Monitoring only once it is first incremented, and
``delta()`` needs two samples: the second branch counts a counter (or a
restarted job's counters) that appeared within the window, which a lone
``delta()`` would miss; the two branches never hold the same series, so
``or`` is a union. ``C`` names the metric in PromQL's UTF-8 form,
``{"dataflow.googleapis.com/job/user_counter", monitored_resource="dataflow_job",
job_name="...", metric_name=~"..."}`` (resource and metric labels are PromQL
labels; the legacy spelling is ``dataflow_googleapis_com:job_user_counter``).
Label regexes in PromQL are anchored; ``[.]`` matches the dot without escapes.

The other signals are real gauges (``job/system_lag``,
``job/data_watermark_age``, ``subscription/oldest_unacked_message_age``):
plain threshold conditions on them, aligned with ``ALIGN_MIN`` (valid for
GAUGE; see below), the subscriptions selected with
``resource.labels.subscription_id = monitoring.regex.full_match("a|b")``.

Distributions
-------------
A Beam distribution (``event_time_lag_ms``) is not one series: Dataflow
presents it as scalar metrics named with a suffix per statistic, the
distribution's name plus ``_MIN``, ``_MAX``, ``_MEAN`` and ``_COUNT`` (Beam's
own Dataflow runner, ``apache_beam/runners/dataflow/dataflow_metrics.py``,
skips exactly those names when it reads the job's metrics back, because
"the Dataflow Service presents distribution metrics in two ways", one of
them "four different scalar metrics labeled as _MIN, _MAX, _COUNT_, _MEAN";
the job's metrics are queryable in Cloud Monitoring "under the same metric
names", per ``JobMetrics`` in the Dataflow API). A chart or policy names the
statistic it means, exactly: ``event_time_lag_ms_MEAN`` (aligned with
``ALIGN_MEAN``) and ``event_time_lag_ms_MAX`` (``ALIGN_MAX``), never a pattern
that would also draw ``_COUNT``, a number of elements, on a milliseconds axis.

Late points
-----------
Google Cloud's metrics are typically "Sampled every 60 seconds. After sampling,
data is not visible for up to 240 seconds" ("Retention and latency of metric
data", https://cloud.google.com/monitoring/api/v3/latency-n-retention, which
gives that statement as the usual one of the metrics list); Dataflow's job
metrics, user counters included, are taken to be that late (the per-metric
figures of the metrics list were not checked here: ``VISIBILITY_DELAY`` is the
one number to change). A policy that reads the newest 60 seconds would see
nothing, or half a window, and fire or clear on points that are merely late.
So, per kind of policy:

- Counter policies (PromQL) read a window that *ended* ``VISIBILITY_DELAY``
  ago: every selector carries ``offset 4m``. ``delta(C[10m] offset 4m)`` is
  the growth over ten complete minutes; the lookback is the delay plus the
  policy's own window, and the "born since" test (``unless C offset 14m``)
  looks at the window's start, so a late sample neither fakes growth nor
  hides it. Paging is later by the delay, which it would be anyway.
- Gauge policies (threshold conditions) align over ``GAUGE_ALIGNMENT``: the
  delay plus two sampling intervals (360 s), so every aligned window holds at
  least two visible samples however late the newest ones are, with
  ``ALIGN_MIN``: a window is above the threshold only when every visible
  sample in it is, so one stray sample does not page and a late one does not
  clear an open incident (the older samples are still in the window).
  Missing data leaves the condition as it was (``EVALUATION_MISSING_DATA_NO_OP``)
  rather than reading as false (clearing) or true (firing).
- There is no absence condition: a job's metrics go quiet both when it stops
  and while its points are late, so "no data" is not paged on. A stopped job
  is caught by the backlog policy, on Pub/Sub's own metric, which keeps
  reporting the subscription's growing oldest message.

Sources relied on: the ``Aggregation.Aligner`` reference of the Monitoring
API (``google.monitoring.v3``, as shipped in google-cloud-monitoring's
docstrings) for which aligner is valid for which metric kind; "Create
PromQL-based alerting policies (API)"
(https://cloud.google.com/monitoring/promql/create-promql-alerts) for the
condition and its one-condition rule; "PromQL for Cloud Monitoring"
(https://cloud.google.com/stackdriver/docs/managed-prometheus/promql) and
"PromQL compatibility" (.../managed-prometheus/promql-differences) for UTF-8
metric names and the Prometheus 2.44 function set; the Prometheus function
reference and its maintainers ("delta() and deriv() are for gauges") for
``delta()``; "Monitoring filters" (https://cloud.google.com/monitoring/api/v3/filters)
for ``monitoring.regex.full_match``.

They are applied idempotently by :mod:`ops.infra.ensure_monitoring`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

from google.cloud import monitoring_dashboard_v1, monitoring_v3
from google.protobuf import duration_pb2

from ops.infra.settings import Settings, Step, pipeline_subscription_id, raw_subscription_id
from pipeline.catalog import CONTRACTS

MANAGED_BY: Final = ("managed-by", "ecom-ingest")
"""The user label every policy of this deployment carries: how they are found again."""
PREFIX: Final = "ecom-ingest: "
DASHBOARD_ID: Final = "ecom-ingest"
DASHBOARD_TITLE: Final = "ecom-ingest pipeline"

USER_COUNTER: Final = "dataflow.googleapis.com/job/user_counter"
SYSTEM_LAG: Final = "dataflow.googleapis.com/job/system_lag"
DATA_FRESHNESS: Final = "dataflow.googleapis.com/job/data_watermark_age"
BACKLOG_AGE: Final = "pubsub.googleapis.com/subscription/oldest_unacked_message_age"

EVENT_TIME_LAG: Final = "event_time_lag_ms"
"""The pipeline's distribution of event-time lag (``pipeline.transforms``)."""
DISTRIBUTION_STATISTICS: Final = ("MIN", "MAX", "MEAN", "COUNT")
"""The suffixes of the metrics Dataflow presents a distribution as (``name_MEAN``...)."""

DEAD_LETTER_REASONS: Final = ("decode_error", "invalid", "unknown_event", "modeling_error")
"""Dead-letter reasons alerted per reason; ``sink_*`` have their own, stricter policies."""
DEAD_LETTER_THRESHOLD: Final = 100
"""Dead letters of one reason (all events together) in the window before paging."""
DEAD_LETTER_WINDOW: Final = 600
"""Seconds of counter growth a dead-letter policy sums."""
SINK_WINDOW: Final = 300
"""Seconds of counter growth a sink policy sums."""
PIPELINE_BACKLOG_SECONDS: Final = 600
RAW_BACKLOG_SECONDS: Final = 1800
SYSTEM_LAG_SECONDS: Final = 300
FRESHNESS_SECONDS: Final = 600
SAMPLING_SECONDS: Final = 60
"""How often Monitoring samples the Dataflow and Pub/Sub metrics alerted on."""
VISIBILITY_DELAY: Final = 240
"""Seconds after sampling before a Dataflow (or Pub/Sub) metric point is visible, at most."""
EVALUATION: Final = duration_pb2.Duration(seconds=SAMPLING_SECONDS)
GAUGE_ALIGNMENT: Final = duration_pb2.Duration(seconds=VISIBILITY_DELAY + 2 * SAMPLING_SECONDS)
"""A gauge policy's alignment window: the delay, plus two samples that are surely visible."""

_Policy = monitoring_v3.AlertPolicy
_Condition = monitoring_v3.AlertPolicy.Condition
_Severity = monitoring_v3.AlertPolicy.Severity


class _Alert(NamedTuple):
    policy: monitoring_v3.AlertPolicy
    why: str


def _quoted(text: str) -> str:
    """Return ``text`` as a double-quoted PromQL (and filter) string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _counters(settings: Settings, names: str) -> str:
    """Return the PromQL selector of the job's Beam counters whose name matches ``names``."""
    matchers = (
        _quoted(USER_COUNTER),
        'monitored_resource="dataflow_job"',
        f"job_name={_quoted(settings.job_name)}",
        f"metric_name=~{_quoted(names)}",
    )
    return "{" + ", ".join(matchers) + "}"


def _minutes(seconds: int) -> str:
    """Return a whole number of minutes as a PromQL duration (``10m``)."""
    return f"{seconds // 60}m"


def _growth(selector: str, window: int) -> str:
    """Return PromQL for how much the running totals of ``selector`` grew over ``window`` s.

    The window ends ``VISIBILITY_DELAY`` ago, where every sample is visible.
    """
    end, start = _minutes(VISIBILITY_DELAY), _minutes(VISIBILITY_DELAY + window)
    return (
        f"sum by (job_name) ((delta({selector}[{_minutes(window)}] offset {end})"
        f" and {selector} offset {start})"
        f" or ({selector} offset {end} unless {selector} offset {start}))"
    )


def _promql_condition(title: str, query: str) -> monitoring_v3.AlertPolicy.Condition:
    return _Condition(
        display_name=title,
        condition_prometheus_query_language=_Condition.PrometheusQueryLanguageCondition(
            query=query, evaluation_interval=EVALUATION
        ),
    )


def _threshold_condition(
    title: str, metric_filter: str, seconds: int
) -> monitoring_v3.AlertPolicy.Condition:
    return _Condition(
        display_name=title,
        condition_threshold=_Condition.MetricThreshold(
            filter=metric_filter,
            aggregations=[
                monitoring_v3.Aggregation(
                    alignment_period=GAUGE_ALIGNMENT,
                    per_series_aligner=monitoring_v3.Aggregation.Aligner.ALIGN_MIN,
                )
            ],
            comparison=monitoring_v3.ComparisonType.COMPARISON_GT,
            threshold_value=seconds,
            duration=EVALUATION,
            trigger=_Condition.Trigger(count=1),
            evaluation_missing_data=_Condition.EvaluationMissingData.EVALUATION_MISSING_DATA_NO_OP,
        ),
    )


def _job_filter(settings: Settings, metric_type: str) -> str:
    return (
        f'resource.type = "dataflow_job" AND metric.type = "{metric_type}"'
        f" AND resource.labels.job_name = {_quoted(settings.job_name)}"
    )


def _distribution_filter(settings: Settings, name: str, statistic: str) -> str:
    """Return the filter of one statistic of a Beam distribution (``name_MEAN``, ``name_MAX``)."""
    if statistic not in DISTRIBUTION_STATISTICS:
        raise ValueError(f"{statistic!r} is not one of {DISTRIBUTION_STATISTICS}")
    return (
        _job_filter(settings, USER_COUNTER)
        + f" AND metric.labels.metric_name = {_quoted(f'{name}_{statistic}')}"
    )


def _subscriptions_filter(subscription_ids: Sequence[str]) -> str:
    # Subscription ids are lowercase letters, digits and dashes: nothing to escape in a regex.
    pattern = "|".join(subscription_ids)
    return (
        f'resource.type = "pubsub_subscription" AND metric.type = "{BACKLOG_AGE}"'
        f" AND resource.labels.subscription_id = monitoring.regex.full_match({_quoted(pattern)})"
    )


def _pipeline_subscriptions() -> list[str]:
    return [pipeline_subscription_id(contract) for contract in CONTRACTS]


def _raw_subscriptions() -> list[str]:
    return [raw_subscription_id(contract) for contract in CONTRACTS]


def _documentation(
    settings: Settings, meaning: str, steps: Sequence[str]
) -> monitoring_v3.AlertPolicy.Documentation:
    bucket = settings.bucket_name
    numbered = "\n".join(f"{number}. {step}" for number, step in enumerate(steps, 1))
    content = (
        f"**What it means.** {meaning}\n\n"
        f"**First steps.**\n{numbered}\n\n"
        "**Where to look.**\n"
        f"- Dataflow job `{settings.job_name}` ({settings.region}): "
        f"https://console.cloud.google.com/dataflow/jobs?project={settings.project}\n"
        f"- Dead letters: `gs://{bucket}/dead_letters/` (NDJSON, one record per failed "
        "message: original payload and attributes, reason, detail)\n"
        f'- Dashboard "{DASHBOARD_TITLE}" in Cloud Monitoring\n'
        '- README, section "Deploy to Google Cloud" (launch, update, drain)\n'
    )
    return _Policy.Documentation(content=content, mime_type="text/markdown")


def _replay(settings: Settings, reason: str) -> str:
    return (
        f"`python -m ops.replay --source gs://{settings.bucket_name}/dead_letters "
        f"--project {settings.project} --reason {reason} --dry-run`"
    )


def _policy(
    settings: Settings,
    title: str,
    conditions: Sequence[monitoring_v3.AlertPolicy.Condition],
    severity: int,
    documentation: monitoring_v3.AlertPolicy.Documentation,
) -> monitoring_v3.AlertPolicy:
    return _Policy(
        display_name=PREFIX + title,
        documentation=documentation,
        user_labels=dict([MANAGED_BY]),
        conditions=list(conditions),
        combiner=_Policy.ConditionCombinerType.OR,
        enabled=True,
        notification_channels=list(settings.notification_channels),
        severity=severity,
    )


def _dead_letter_alert(settings: Settings, reason: str) -> _Alert:
    query = (
        _growth(_counters(settings, f".+[.]{reason}"), DEAD_LETTER_WINDOW)
        + f" > {DEAD_LETTER_THRESHOLD}"
    )
    bug = reason == "modeling_error"
    cause = (
        "the pipeline failed turning valid events into rows: a bug or a contract the model "
        "does not handle yet"
        if bug
        else "producers send messages the contracts refuse (an unregistered event, bytes "
        "that do not decode, or values that break the validation rules)"
    )
    documentation = _documentation(
        settings,
        f"More than {DEAD_LETTER_THRESHOLD} messages were dead-lettered as `{reason}` in "
        f"{_minutes(DEAD_LETTER_WINDOW)} (all events together; the window ends "
        f"{_minutes(VISIBILITY_DELAY)} before the alert, as Dataflow's metrics become visible "
        f"that late): {cause}. The messages are safe in the dead letters and were "
        "acknowledged. A count threshold rather than a share of the traffic: Dataflow "
        "exports counters as running-total gauges, and a ratio of two PromQL growths is "
        "noisy at low traffic.",
        [
            "See what failed, since when, per contract, field and rule: `python -m "
            f"ops.deadletters --source gs://{settings.bucket_name}/dead_letters` (add "
            '`--payloads` for a masked example); the "Dead letters by reason" chart shows '
            "which event type.",
            "Fix the pipeline or the contract (and deploy with `./run.sh update`)"
            if bug
            else "Tell the producing team, or register and release the contract change.",
            f"Replay after the fix: {_replay(settings, reason)}, then without `--dry-run`.",
        ],
    )
    severity = _Severity.ERROR if bug else _Severity.WARNING
    condition = _promql_condition(
        f"{reason} dead letters > {DEAD_LETTER_THRESHOLD} in {_minutes(DEAD_LETTER_WINDOW)}", query
    )
    return _Alert(
        _policy(settings, f"{reason} dead letters", [condition], severity, documentation),
        f"pages when more than {DEAD_LETTER_THRESHOLD} `{reason}` dead letters in "
        f"{_minutes(DEAD_LETTER_WINDOW)} (PromQL delta() of the counters' running totals, over "
        f"a window ending {_minutes(VISIBILITY_DELAY)} ago: Dataflow's metric visibility delay)",
    )


def _sink_alert(settings: Settings, outcome: str) -> _Alert:
    query = _growth(_counters(settings, f".+[.]{outcome}"), SINK_WINDOW) + " > 0"
    if outcome == "sink_unavailable":
        title, severity = "BigQuery unavailable", _Severity.CRITICAL
        meaning = (
            "Rows could not be written because BigQuery was unreachable, refused access, or a "
            "table is missing, past the bounded retry: their messages were dead-lettered with "
            "reason `sink_unavailable`. Every message is affected until this is fixed."
        )
        steps = [
            "Check the BigQuery status page, the job service account's rights on the dataset "
            f"`{settings.project}.{settings.dataset}`, and that the five tables exist "
            "(`python -m ops.infra diff` shows what is missing; apply without `diff`).",
            "Read the worker logs of the Dataflow job for the BigQuery error.",
            f"Replay once BigQuery accepts writes: {_replay(settings, outcome)}, then without "
            "`--dry-run`.",
        ]
    else:
        title, severity = "rows refused by BigQuery", _Severity.ERROR
        meaning = (
            "BigQuery refused rows (schema mismatch, value out of range, row too large): their "
            "messages were dead-lettered with reason `sink_rejected`. The table schema and the "
            "pipeline's model disagree."
        )
        steps = [
            "Read the details of the `sink_rejected` records (`python -m ops.deadletters "
            f"--source gs://{settings.bucket_name}/dead_letters`): they name table and column.",
            "Compare the live table schema with `bq_schemas/`; apply pending migrations "
            "(`python -m ops.infra`).",
            f"Replay after the fix: {_replay(settings, outcome)}, then without `--dry-run`.",
        ]
    condition = _promql_condition(f"any {outcome} in {_minutes(SINK_WINDOW)}", query)
    return _Alert(
        _policy(settings, title, [condition], severity, _documentation(settings, meaning, steps)),
        f"pages on any `{outcome}` (any event or table) in {_minutes(SINK_WINDOW)}",
    )


def _backlog_alert(settings: Settings) -> _Alert:
    conditions = [
        _threshold_condition(
            f"pipeline subscription backlog older than {PIPELINE_BACKLOG_SECONDS // 60} min",
            _subscriptions_filter(_pipeline_subscriptions()),
            PIPELINE_BACKLOG_SECONDS,
        )
    ]
    meaning = (
        f"A subscription the job reads (`{'`, `'.join(_pipeline_subscriptions())}`) holds a "
        f"message older than {PIPELINE_BACKLOG_SECONDS // 60} minutes: the job is stopped, "
        "stuck, or cannot keep up. Messages are kept 7 days."
    )
    steps = [
        "Check that the Dataflow job is running; if it is not, `./run.sh launch`.",
        "If it runs, look at the system lag and data freshness charts and the worker logs "
        "(errors retried forever, or too few workers: raise `MAX_WORKERS`).",
    ]
    if settings.raw_landing:
        conditions.append(
            _threshold_condition(
                f"raw landing backlog older than {RAW_BACKLOG_SECONDS // 60} min",
                _subscriptions_filter(_raw_subscriptions()),
                RAW_BACKLOG_SECONDS,
            )
        )
        meaning += (
            f" Or a BigQuery subscription landing raw copies (`{'`, `'.join(_raw_subscriptions())}"
            f"`) holds a message older than {RAW_BACKLOG_SECONDS // 60} minutes: it cannot "
            "write its table, and keeps the messages in its backlog."
        )
        steps.append(
            "For a `-raw` subscription: check that its raw table exists and that Pub/Sub's "
            "service agent has `roles/bigquery.dataEditor` on it (`python -m ops.infra`)."
        )
    return _Alert(
        _policy(
            settings,
            "subscription backlog",
            conditions,
            _Severity.ERROR,
            _documentation(settings, meaning, steps),
        ),
        "pages when the oldest unacknowledged message is older than "
        f"{PIPELINE_BACKLOG_SECONDS // 60} min (pipeline) or "
        f"{RAW_BACKLOG_SECONDS // 60} min (raw landing)",
    )


def _job_gauge_alert(
    settings: Settings, title: str, metric_type: str, seconds: int, meaning: str
) -> _Alert:
    condition = _threshold_condition(
        f"{title} above {seconds // 60} min", _job_filter(settings, metric_type), seconds
    )
    steps = [
        "Open the Dataflow job page: a stage with a growing backlog or failing work items "
        "shows where the time goes.",
        "Read the worker logs for retried errors; check the autoscaling history (`MAX_WORKERS`).",
        "If the job is wedged, `./run.sh update` (same code) restarts the workers in place.",
    ]
    return _Alert(
        _policy(
            settings,
            title,
            [condition],
            _Severity.ERROR,
            _documentation(settings, meaning, steps),
        ),
        f"pages when {title} exceeds {seconds // 60} min",
    )


def _alerts(settings: Settings) -> list[_Alert]:
    alerts = [_dead_letter_alert(settings, reason) for reason in DEAD_LETTER_REASONS]
    alerts += [_sink_alert(settings, "sink_rejected"), _sink_alert(settings, "sink_unavailable")]
    alerts.append(_backlog_alert(settings))
    alerts.append(
        _job_gauge_alert(
            settings,
            "system lag",
            SYSTEM_LAG,
            SYSTEM_LAG_SECONDS,
            f"An element has waited more than {SYSTEM_LAG_SECONDS // 60} minutes to be "
            "processed: the job is falling behind its input.",
        )
    )
    alerts.append(
        _job_gauge_alert(
            settings,
            "data freshness",
            DATA_FRESHNESS,
            FRESHNESS_SECONDS,
            f"The job's data watermark is more than {FRESHNESS_SECONDS // 60} minutes old: "
            "rows reach BigQuery late, or a source has stopped advancing.",
        )
    )
    return alerts


def alert_policies(settings: Settings) -> list[monitoring_v3.AlertPolicy]:
    """Return the alerting policies of the deployment, in a stable order.

    Four dead-letter policies (one per reason), ``sink_rejected``,
    ``sink_unavailable``, subscription backlog, system lag and data freshness;
    each labelled ``managed-by=ecom-ingest`` and documented for the on-call.
    """
    return [alert.policy for alert in _alerts(settings)]


def _chart(
    title: str,
    *data_sets: monitoring_dashboard_v1.XyChart.DataSet,
    threshold: float | None = None,
    y_label: str = "",
) -> monitoring_dashboard_v1.Widget:
    chart = monitoring_dashboard_v1.XyChart(
        data_sets=list(data_sets),
        y_axis=monitoring_dashboard_v1.XyChart.Axis(label=y_label),
    )
    if threshold is not None:
        chart.thresholds = [monitoring_dashboard_v1.Threshold(label="alert", value=threshold)]
    return monitoring_dashboard_v1.Widget(title=title, xy_chart=chart)


def _promql_data(query: str) -> monitoring_dashboard_v1.XyChart.DataSet:
    return monitoring_dashboard_v1.XyChart.DataSet(
        time_series_query=monitoring_dashboard_v1.TimeSeriesQuery(prometheus_query=query),
        plot_type=monitoring_dashboard_v1.XyChart.DataSet.PlotType.LINE,
        min_alignment_period=EVALUATION,
    )


def _gauge_data(
    metric_filter: str,
    group_by: str,
    aligner: int = monitoring_dashboard_v1.Aggregation.Aligner.ALIGN_MAX,
) -> monitoring_dashboard_v1.XyChart.DataSet:
    aggregation = monitoring_dashboard_v1.Aggregation(
        alignment_period=EVALUATION,
        per_series_aligner=aligner,
        cross_series_reducer=monitoring_dashboard_v1.Aggregation.Reducer.REDUCE_MAX,
        group_by_fields=[group_by],
    )
    return monitoring_dashboard_v1.XyChart.DataSet(
        time_series_query=monitoring_dashboard_v1.TimeSeriesQuery(
            time_series_filter=monitoring_dashboard_v1.TimeSeriesFilter(
                filter=metric_filter, aggregation=aggregation
            )
        ),
        plot_type=monitoring_dashboard_v1.XyChart.DataSet.PlotType.LINE,
    )


def dashboard_name(settings: Settings) -> str:
    """Return the dashboard's resource name (its id is fixed, so it is found by name)."""
    return f"projects/{settings.project}/dashboards/{DASHBOARD_ID}"


def dashboard(settings: Settings) -> monitoring_dashboard_v1.Dashboard:
    """Return the pipeline's dashboard: one chart per signal the policies watch, and more.

    Counters are charted as their growth per 5 minutes (PromQL ``delta()``, as
    in the policies); real gauges with ``ALIGN_MAX``. Charts of alerted
    signals draw the alert's threshold.
    """
    reasons = "|".join(DEAD_LETTER_REASONS)
    dead_letters = _counters(settings, f".+[.]({reasons})")
    by_reason = (
        f'sum by (reason) (label_replace(delta({dead_letters}[5m]), "reason", "$1", '
        f'"metric_name", ".+[.](.+)"))'
    )
    subscriptions = _pipeline_subscriptions()
    if settings.raw_landing:
        subscriptions += _raw_subscriptions()
    widgets = [
        _chart(
            "Messages processed per event (per 5 min)",
            _promql_data(f"sum by (metric_name) (delta({_counters(settings, '.+[.]ok')}[5m]))"),
        ),
        _chart(
            "Dead letters by reason (per 5 min)",
            _promql_data(by_reason),
        ),
        _chart(
            "Rows refused / BigQuery unavailable (per 5 min)",
            _promql_data(
                "sum by (metric_name) "
                f"(delta({_counters(settings, '.+[.](sink_rejected|sink_unavailable)')}[5m]))"
            ),
        ),
        _chart(
            "Oldest unacknowledged message per subscription",
            _gauge_data(_subscriptions_filter(subscriptions), "resource.label.subscription_id"),
            threshold=PIPELINE_BACKLOG_SECONDS,
            y_label="seconds",
        ),
        _chart(
            "System lag",
            _gauge_data(_job_filter(settings, SYSTEM_LAG), "resource.label.job_name"),
            threshold=SYSTEM_LAG_SECONDS,
            y_label="seconds",
        ),
        _chart(
            "Data freshness (watermark age)",
            _gauge_data(_job_filter(settings, DATA_FRESHNESS), "resource.label.job_name"),
            threshold=FRESHNESS_SECONDS,
            y_label="seconds",
        ),
        _chart(
            "Event-time lag at processing (ms): mean and max",
            _gauge_data(
                _distribution_filter(settings, EVENT_TIME_LAG, "MEAN"),
                "metric.label.metric_name",
                monitoring_dashboard_v1.Aggregation.Aligner.ALIGN_MEAN,
            ),
            _gauge_data(
                _distribution_filter(settings, EVENT_TIME_LAG, "MAX"),
                "metric.label.metric_name",
                monitoring_dashboard_v1.Aggregation.Aligner.ALIGN_MAX,
            ),
            y_label="ms",
        ),
    ]
    return monitoring_dashboard_v1.Dashboard(
        name=dashboard_name(settings),
        display_name=DASHBOARD_TITLE,
        grid_layout=monitoring_dashboard_v1.GridLayout(columns=2, widgets=widgets),
    )


def monitoring_steps(settings: Settings) -> list[Step]:
    """Return one step per alerting policy, then the dashboard's step."""
    steps = [
        Step("monitoring.alert_policy", alert.policy.display_name, alert.policy, why=alert.why)
        for alert in _alerts(settings)
    ]
    steps.append(
        Step(
            "monitoring.dashboard",
            dashboard_name(settings),
            dashboard(settings),
            why="throughput, dead letters by reason, sink failures, backlog, lag and freshness",
        )
    )
    return steps
