"""What every ensure function works with: the clients, the settings, and the record of changes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ops.infra.settings import Settings

T = TypeVar("T")


class InfraError(RuntimeError):
    """A step cannot be applied as planned; the message says what to do."""


@dataclass
class Clients:
    """The client objects used; tests hand in fakes (or the emulator's clients) at this boundary."""

    schemas: Any = None
    publisher: Any = None
    subscriber: Any = None
    bigquery: Any = None
    storage: Any = None
    iam: Any = None
    projects: Any = None
    artifact_registry: Any = None
    alert_policies: Any = None
    dashboards: Any = None

    @classmethod
    def real(cls, settings: Settings) -> Clients:
        """Create the real clients (application default credentials)."""
        from google.cloud import (
            artifactregistry_v1,
            iam_admin_v1,
            monitoring_dashboard_v1,
            monitoring_v3,
            resourcemanager_v3,
        )

        return cls(
            **vars(cls.local(settings)),
            iam=iam_admin_v1.IAMClient(),
            projects=resourcemanager_v3.ProjectsClient(),
            artifact_registry=artifactregistry_v1.ArtifactRegistryClient(),
            alert_policies=monitoring_v3.AlertPolicyServiceClient(),
            dashboards=monitoring_dashboard_v1.DashboardsServiceClient(),
        )

    @classmethod
    def local(cls, settings: Settings) -> Clients:
        """Create the clients of the services that have emulators (Pub/Sub, BigQuery, Storage).

        Each goes where :mod:`pipeline.endpoints` says: its emulator when named.
        """
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]

        from pipeline.endpoints import bigquery_client, storage_client

        return cls(
            schemas=pubsub_v1.SchemaServiceClient(),
            publisher=pubsub_v1.PublisherClient(),
            subscriber=pubsub_v1.SubscriberClient(),
            bigquery=bigquery_client(settings.project, location=settings.region),
            storage=storage_client(settings.project),
        )


@dataclass
class Context:
    """What every ensure function gets: clients, settings, and the record of changes."""

    clients: Clients
    settings: Settings
    changes: bool = True
    """False for a diff: mutating calls are recorded, not made."""
    sleep: Callable[[float], None] = time.sleep
    attempts: int = 8
    """Bounded retries of IAM writes (etag conflicts, a service account not yet visible)."""
    warnings: list[str] = field(default_factory=list)
    local: bool = False
    """The clients are the local services' (:mod:`ops.infra.emulated`): skip what they lack."""
    skipped: list[str] = field(default_factory=list)
    """Steps no local service answers, skipped (local only)."""
    recorded: list[str] = field(default_factory=list)
    """Every mutating call made (or, in a diff, skipped), by what it does, in order."""

    def change(self, action: str, call: Callable[[], T]) -> T | None:
        """Make a mutating call (or, in a diff, only record it); ``action`` says what it does."""
        self.recorded.append(action)
        return call() if self.changes else None

    def retrying(
        self,
        what: str,
        attempt: Callable[[], T],
        caught: tuple[type[Exception], ...],
        retryable: Callable[[Exception], bool],
        *,
        first_delay: float,
        max_delay: float,
    ) -> tuple[T, int]:
        """Call ``attempt`` until it returns, at most ``attempts`` times; return it and the retries.

        A ``caught`` error that is ``retryable`` is retried after a sleep that
        doubles each time (``first_delay`` up to ``max_delay``); one that is not,
        or the last, raises InfraError naming ``what``. Other errors propagate.
        """
        delay = first_delay
        for number in range(1, self.attempts + 1):
            try:
                return attempt(), number - 1
            except caught as error:
                if not retryable(error) or number == self.attempts:
                    raise InfraError(f"{what}: {error} (after {number} attempt(s))") from error
            self.sleep(delay)
            delay = min(delay * 2, max_delay)
        raise AssertionError("unreachable")

    def warn(self, message: str) -> None:
        """Record something the plan cannot change in place."""
        self.warnings.append(message)
