"""One Beam counter per outcome: ``<Event>.ok``, ``<Event>.invalid``, ``<table>.sink_rejected``...

Dataflow exports them as ``dataflow.googleapis.com/job/user_counter`` (label
``metric_name``); the alert policies (``ops/infra/alerts.py``) watch them.
"""

from __future__ import annotations

from typing import Any, Final

from apache_beam.metrics.metric import Metrics

NAMESPACE: Final = "ecom"


def outcome_counter(subject: str, outcome: str) -> Any:
    """Return the counter of ``outcome`` for a contract or table (``OrderEvent.ok`` ...)."""
    short = subject.rsplit(".", 1)[-1] or "unknown"
    return Metrics.counter(NAMESPACE, f"{short}.{outcome}")
