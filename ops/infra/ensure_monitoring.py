"""Cloud Monitoring: apply the alert policies and the dashboard of :mod:`ops.infra.alerts`.

Every policy carries the user label ``managed-by=ecom-ingest`` and is found
again by that label and its display name. The policies are listed without a
server-side filter and matched here: the filter language quotes label keys in
ways its reference does not spell out for a key with a dash, and a project
holds at most a few hundred policies. A found policy is updated with an
update mask naming exactly the fields that differ (condition ids are kept by
condition display name); the dashboard, which has a fixed name, is read by
name and replaced with the etag it was read with.

"Differ" means: a value the plan sets is not what the server holds. Fields the
plan leaves unset are not compared, because the server fills in defaults
(a dashboard's axes and chart modes, a policy's condition names and trigger),
and comparing them would replace the objects on every apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from google.api_core import exceptions
from google.cloud import monitoring_dashboard_v1, monitoring_v3
from google.protobuf import field_mask_pb2, json_format

from ops.infra.alerts import MANAGED_BY
from ops.infra.context import Context
from ops.infra.settings import Step

_Policy = monitoring_v3.AlertPolicy
_COMPARED: Final = (
    "conditions",
    "documentation",
    "combiner",
    "notification_channels",
    "enabled",
    "severity",
)
"""The policy fields the plan owns: compared, and named in the update mask when they differ."""


def _as_json(message: Any) -> Any:
    """Return a proto-plus message as JSON without its unset (default) fields."""
    return json_format.MessageToDict(type(message).pb(message), preserving_proto_field_name=True)


def holds(current: Any, wanted: Any) -> bool:
    """Return whether JSON ``current`` holds every value ``wanted`` sets (extra fields ignored)."""
    if isinstance(wanted, dict):
        return isinstance(current, dict) and all(
            holds(current.get(key), value) for key, value in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(current, list)
            and len(current) == len(wanted)
            and all(holds(have, want) for have, want in zip(current, wanted, strict=True))
        )
    return bool(current == wanted)


def _unnamed(conditions: Sequence[Any]) -> list[Any]:
    """Return ``conditions`` as JSON without the names the server gives them."""
    return [{k: v for k, v in _as_json(c).items() if k != "name"} for c in conditions]


def _differing(current: monitoring_v3.AlertPolicy, wanted: monitoring_v3.AlertPolicy) -> list[str]:
    """Return the plan-owned fields whose planned values ``current`` does not hold."""
    have, want = _as_json(current), _as_json(wanted)
    fields = []
    for name in _COMPARED:
        if name == "conditions":
            same = holds(_unnamed(current.conditions), _unnamed(wanted.conditions))
        else:
            same = holds(have.get(name), want.get(name)) if name in want else name not in have
        if not same:
            fields.append(name)
    return fields


def _find_policy(client: Any, project: str, display_name: str) -> Any:
    """Return the managed policy called ``display_name``, or None."""
    key, value = MANAGED_BY
    found = [
        policy
        for policy in client.list_alert_policies(
            request=monitoring_v3.ListAlertPoliciesRequest(name=project)
        )
        if policy.display_name == display_name and policy.user_labels.get(key) == value
    ]
    return min(found, key=lambda policy: policy.name) if found else None


def ensure_alert_policy(context: Context, step: Step) -> list[str]:
    """Create the step's policy, or update the fields that differ; return the actions taken."""
    wanted: monitoring_v3.AlertPolicy = step.request
    client = context.clients.alert_policies
    project = f"projects/{context.settings.project}"
    current = _find_policy(client, project, wanted.display_name)
    if current is None:
        create = monitoring_v3.CreateAlertPolicyRequest(name=project, alert_policy=wanted)
        context.change("create", lambda: client.create_alert_policy(request=create))
        return ["create"]
    fields = _differing(current, wanted)
    if not fields:
        return []
    policy: monitoring_v3.AlertPolicy = _Policy.deserialize(_Policy.serialize(wanted))
    policy.name = current.name
    ids = {condition.display_name: condition.name for condition in current.conditions}
    for condition in policy.conditions:
        condition.name = ids.get(condition.display_name, "")
    update = monitoring_v3.UpdateAlertPolicyRequest(
        alert_policy=policy, update_mask=field_mask_pb2.FieldMask(paths=fields)
    )
    action = "update " + ", ".join(fields)
    context.change(action, lambda: client.update_alert_policy(request=update))
    return [action]


def _comparable(board: monitoring_dashboard_v1.Dashboard) -> Any:
    """Return ``board`` as JSON without the fields the server owns (name, etag)."""
    return {k: v for k, v in _as_json(board).items() if k not in {"name", "etag"}}


def ensure_dashboard(context: Context, step: Step) -> list[str]:
    """Create the dashboard, or replace it (with the etag read) when it differs from the plan."""
    wanted: monitoring_dashboard_v1.Dashboard = step.request
    client = context.clients.dashboards
    try:
        current = client.get_dashboard(
            request=monitoring_dashboard_v1.GetDashboardRequest(name=step.name)
        )
    except exceptions.NotFound:
        create = monitoring_dashboard_v1.CreateDashboardRequest(
            parent=f"projects/{context.settings.project}", dashboard=wanted
        )
        context.change("create", lambda: client.create_dashboard(request=create))
        return ["create"]
    if holds(_comparable(current), _comparable(wanted)):
        return []
    replacement = monitoring_dashboard_v1.Dashboard.deserialize(
        monitoring_dashboard_v1.Dashboard.serialize(wanted)
    )
    replacement.name = step.name
    replacement.etag = current.etag
    update = monitoring_dashboard_v1.UpdateDashboardRequest(dashboard=replacement)
    context.change("update", lambda: client.update_dashboard(request=update))
    return ["update"]
