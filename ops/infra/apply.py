"""Apply a plan with the Google Cloud client libraries, idempotently, or only show what changes.

Each step is *ensured* by the function its kind names: read the resource,
create it when missing, bring the parts the plan owns up to date when they
differ, and leave it alone otherwise. Every mutating call goes through
:meth:`~ops.infra.context.Context.change`; in a diff (``python -m ops.infra
diff``) it is recorded and not made, so a diff reads the project and changes
nothing. What cannot be changed in place (a live column the contracts no
longer have, a table partitioned differently) is collected as a warning and
printed at the end. On the local services (:mod:`ops.infra.emulated`), a step
no emulator answers is skipped and said so.
"""

from __future__ import annotations

from collections.abc import Callable

from ops.infra import (
    ensure_bigquery,
    ensure_iam,
    ensure_monitoring,
    ensure_pubsub,
    ensure_storage,
)
from ops.infra.context import Context
from ops.infra.emulated import (
    ensure_fact_table_by_ddl,
    ensure_topic_without_schema,
    local_step,
    skip_reason,
)
from ops.infra.settings import Step

ENSURE: dict[str, Callable[[Context, Step], list[str]]] = {
    "pubsub.schema": ensure_pubsub.ensure_schema,
    "pubsub.topic": ensure_pubsub.ensure_topic,
    "pubsub.subscription": ensure_pubsub.ensure_subscription,
    "bigquery.dataset": ensure_bigquery.ensure_dataset,
    "bigquery.table": ensure_bigquery.ensure_table,
    "bigquery.migration": ensure_bigquery.ensure_migration,
    "bigquery.table_schema": ensure_bigquery.ensure_table_schema,
    "bigquery.view": ensure_bigquery.ensure_view,
    "storage.bucket": ensure_storage.ensure_bucket,
    "artifactregistry.repository": ensure_storage.ensure_repository,
    "iam.service_account": ensure_iam.ensure_service_account,
    "iam.project_binding": ensure_iam.ensure_project_binding,
    "iam.pubsub_binding": ensure_iam.ensure_pubsub_binding,
    "iam.dataset_binding": ensure_iam.ensure_dataset_binding,
    "iam.table_binding": ensure_iam.ensure_table_binding,
    "iam.bucket_binding": ensure_iam.ensure_bucket_binding,
    "iam.repository_binding": ensure_iam.ensure_repository_binding,
    "monitoring.alert_policy": ensure_monitoring.ensure_alert_policy,
    "monitoring.dashboard": ensure_monitoring.ensure_dashboard,
}
"""The ensure function of each kind of step."""
ENSURE_LOCAL: dict[str, Callable[[Context, Step], list[str]]] = {
    **ENSURE,
    "pubsub.topic": ensure_topic_without_schema,
    "bigquery.table": ensure_fact_table_by_ddl,
}
"""The same on the local services (:mod:`ops.infra.emulated`): topics have no schema there."""


def apply(context: Context, steps: list[Step], say: Callable[[str], None] = print) -> int:
    """Ensure every step in order, saying what each did (or would do); return the change count."""
    verb = "" if context.changes else "would "
    changed = 0
    for step in steps:
        if context.local:
            reason = skip_reason(step)
            if reason:
                context.skipped.append(step.name)
                say(f"{step.kind:<26} {step.name}: skipped ({reason})")
                continue
            step = local_step(step)
        actions = (ENSURE_LOCAL if context.local else ENSURE)[step.kind](context, step)
        changed += bool(actions)
        outcome = "; ".join(f"{verb}{action}" for action in actions) or "unchanged"
        say(f"{step.kind:<26} {step.name}: {outcome}")
    for warning in context.warnings:
        say(f"WARNING: {warning}")
    return changed
