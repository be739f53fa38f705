"""The BigQuery sink: streaming inserts with the row key as insert id; rejected rows dead-lettered.

Beam's own ``WriteToBigQuery`` gives every row a random insert id, so a
message Pub/Sub redelivers would be inserted twice. This sink uses each
row's key (the source event id, or ``order_id|item_id`` for lines) as the
``insertId``, which BigQuery uses for best-effort deduplication (about a
minute). Transient errors are retried with exponential backoff; if they
persist the bundle fails, so Pub/Sub redelivers rather than anything being
dropped. Rows BigQuery refuses become dead letters of their source message.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import apache_beam as beam
from apache_beam.pvalue import PCollection
from typing_extensions import override

from pipeline.sinks.buffered import Batch, BufferedSinkFn, Refusal

TRANSIENT_REASONS = frozenset({"backendError", "internalError", "rateLimitExceeded", "timeout"})


class InsertClient(Protocol):
    """The part of ``google.cloud.bigquery.Client`` the sink uses (the test fake's boundary)."""

    def insert_rows_json(
        self,
        table: str,
        json_rows: Sequence[dict[str, Any]],
        *,
        row_ids: Sequence[str],
        skip_invalid_rows: bool,
    ) -> Sequence[dict[str, Any]]:
        """Stream rows; return one error entry per refused row."""


class TransientInsertError(Exception):
    """BigQuery did not answer or answered with a retryable error; the batch is retried."""


def default_client(project: str) -> InsertClient:
    """Return a real BigQuery client for ``project`` (empty: the environment's default)."""
    from google.cloud import bigquery

    return bigquery.Client(project=project or None)


class InsertRowsFn(BufferedSinkFn):
    """Insert each message's rows into ``project.dataset.<table>`` in batches."""

    sink_name = "BigQuery"
    max_batch_rows = 500

    def __init__(
        self,
        project: str,
        dataset: str,
        client_factory: Callable[[str], InsertClient] = default_client,
        max_attempts: int = 6,
        base_delay: float = 0.5,
    ) -> None:
        super().__init__()
        self.project = project
        self.dataset = dataset
        self.client_factory = client_factory
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self._client: InsertClient | None = None

    @override
    def setup(self) -> None:
        self._client = self.client_factory(self.project)

    def table_id(self, table: str) -> str:
        """Return the fully qualified id of ``table``."""
        prefix = f"{self.project}." if self.project else ""
        return f"{prefix}{self.dataset}.{table}"

    @override
    def write(self, table: str, batch: Batch) -> list[Refusal]:
        refused: dict[int, list[str]] = {}
        for entry in self._insert(table, batch):
            reasons = [f"{e.get('reason', '')}: {e.get('message', '')}" for e in entry["errors"]]
            refused.setdefault(int(entry["index"]), []).extend(reasons)
        return [(*batch[index], "; ".join(reasons)) for index, reasons in sorted(refused.items())]

    def _insert(self, table: str, batch: Batch) -> list[dict[str, Any]]:
        """Insert ``batch``; return the permanent error entries, indexed into ``batch``.

        Rows that fail transiently (or whole requests that do) are retried with
        exponential backoff and jitter; the same insert ids make a retry of a row
        that did land harmless. Raises TransientInsertError when retries run out.
        """
        assert self._client is not None
        pending = list(range(len(batch)))
        permanent: list[dict[str, Any]] = []
        for attempt in range(1, self.max_attempts + 1):
            try:
                errors = self._client.insert_rows_json(
                    self.table_id(table),
                    [batch[i][0].row for i in pending],
                    row_ids=[batch[i][0].key for i in pending],
                    skip_invalid_rows=True,
                )
            except Exception as error:
                if not (isinstance(error, TransientInsertError) or _is_transient(error)):
                    raise
            else:
                retry = []
                for entry in errors:
                    original = pending[int(entry["index"])]
                    if _transient_entry(entry):
                        retry.append(original)
                    else:
                        permanent.append({**entry, "index": original})
                pending = retry
                if not pending:
                    return permanent
            if attempt == self.max_attempts:
                raise TransientInsertError(
                    f"inserting {len(pending)} rows into {table} still failing after "
                    f"{attempt} attempts; failing the bundle so Pub/Sub redelivers"
                )
            time.sleep(self.base_delay * 2 ** (attempt - 1) * (1 + random.random() / 2))
        return permanent


def _transient_entry(entry: dict[str, Any]) -> bool:
    return any(error.get("reason") in TRANSIENT_REASONS for error in entry.get("errors", []))


def _is_transient(error: Exception) -> bool:
    from google.api_core import exceptions as gexc

    return isinstance(
        error,
        (
            gexc.InternalServerError,
            gexc.BadGateway,
            gexc.ServiceUnavailable,
            gexc.GatewayTimeout,
            gexc.TooManyRequests,
            ConnectionError,
            TimeoutError,
        ),
    )


class WriteToBigQuery(beam.PTransform[PCollection[Any], Any]):
    """Insert rows into ``project.dataset.<table>``; return dead-letter lines of refused rows."""

    def __init__(
        self,
        project: str,
        dataset: str,
        client_factory: Callable[[str], InsertClient] = default_client,
    ) -> None:
        super().__init__()
        self.fn = InsertRowsFn(project, dataset, client_factory)

    @override
    def expand(self, rows: PCollection[Any]) -> Any:
        return rows | "InsertRows" >> beam.ParDo(self.fn)
