"""The BigQuery sink: streaming inserts with the row key as insert id; rejected rows dead-lettered.

Beam's own ``WriteToBigQuery`` gives every row a random insert id, so a
message Pub/Sub redelivers would be inserted twice. This sink uses each
row's key (the source event id, or ``order_id|item_id`` for lines) as the
``insertId``, which BigQuery uses for best-effort deduplication (about a
minute; the deduplicated views do the rest). Rows BigQuery refuses become
dead letters of their source message (``sink_rejected``). Errors of the
whole request are retried with exponential backoff, a bounded number of
times (5 attempts of at most 20 s each, with backoff: about two minutes at
most): transient ones (5xx, rate limits, timeouts) and permanent ones (a
missing table, a permission denied) alike, since both can heal (a table
being created, a role propagating). The client library's own retry is off,
or it would retry each call for up to ten minutes. When they persist, the batch's messages
become dead letters (``sink_unavailable``, counted and alerted) and the job
keeps moving: a streaming job that retried the bundle forever would hold
its watermark back and never close a dead-letter window. While a table is
unavailable, later batches for it try once (for ``hold_seconds``), so an
outage costs one retry cycle, not one per bundle. Any other exception is a
bug and fails the bundle.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import apache_beam as beam
from apache_beam.pvalue import PCollection
from typing_extensions import override

from pipeline.errors import SinkUnavailableError
from pipeline.sinks.refusals import Batch, Refusal
from pipeline.sinks.warehouse_sink import WarehouseSinkFn

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
        retry: Any,
        timeout: float,
    ) -> Sequence[dict[str, Any]]:
        """Stream rows; return one error entry per refused row."""


def _is_unavailable(error: Exception) -> bool:
    """Return whether a request-level error means the table cannot be written right now."""
    from google.api_core import exceptions as gexc

    return isinstance(
        error,
        (
            gexc.GoogleAPICallError,
            gexc.RetryError,
            ConnectionError,
            TimeoutError,
        ),
    )


def default_client(project: str) -> InsertClient:
    """Return a real BigQuery client for ``project`` (empty: the environment's default)."""
    from pipeline.endpoints import bigquery_client

    client: InsertClient = bigquery_client(project)
    return client


class InsertRowsFn(WarehouseSinkFn):
    """Insert each message's rows into ``project.dataset.<table>`` in batches."""

    sink_name = "BigQuery"
    max_batch_rows = 500

    def __init__(
        self,
        project: str,
        dataset: str,
        client_factory: Callable[[str], InsertClient] = default_client,
        max_attempts: int = 5,
        base_delay: float = 0.5,
        hold_seconds: float = 60.0,
        request_timeout: float = 20.0,
    ) -> None:
        super().__init__()
        self.project = project
        self.dataset = dataset
        self.client_factory = client_factory
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.hold_seconds = hold_seconds
        self.request_timeout = request_timeout
        self._client: InsertClient | None = None
        self._unavailable_until: dict[str, float] = {}

    @override
    def setup(self) -> None:
        self._client = self.client_factory(self.project)

    def table_id(self, table: str) -> str:
        """Return the fully qualified id of ``table``."""
        prefix = f"{self.project}." if self.project else ""
        return f"{prefix}{self.dataset}.{table}"

    @override
    def write(self, table: str, batch: Batch) -> list[Refusal]:
        return _refusals(batch, self._insert(table, batch))

    def _insert(self, table: str, batch: Batch) -> list[dict[str, Any]]:
        """Insert ``batch``; return the permanent error entries, indexed into ``batch``.

        Rows that fail transiently, and whole requests that fail, are retried
        with exponential backoff and jitter; the same insert ids make a retry
        of a row that did land harmless. Raises SinkUnavailableError when the
        retries run out.
        """
        assert self._client is not None
        pending = list(range(len(batch)))
        permanent: list[dict[str, Any]] = []
        last_error = ""
        # After a table was found unavailable, the next batches try once for a while, so an
        # outage dead-letters at the pace messages arrive instead of stalling every bundle.
        held = time.monotonic() < self._unavailable_until.get(table, 0.0)
        attempts = 1 if held else self.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                errors = self._client.insert_rows_json(
                    self.table_id(table),
                    [batch[i][0].row for i in pending],
                    row_ids=[batch[i][0].key for i in pending],
                    skip_invalid_rows=True,
                    # This loop is the retry policy: the library's own would retry for
                    # up to 10 minutes per call and hide the bound.
                    retry=None,
                    timeout=self.request_timeout,
                )
            except Exception as error:
                if not _is_unavailable(error):
                    raise
                last_error = f"{type(error).__name__}: {error}"
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
                    self._unavailable_until.pop(table, None)
                    return permanent
                last_error = "transient row errors: " + "; ".join(
                    f"{e.get('reason', '')}" for e in errors[0].get("errors", [])
                )
            if attempt == attempts:
                break
            time.sleep(self.base_delay * 2 ** (attempt - 1) * (1 + random.random() / 2))
        self._unavailable_until[table] = time.monotonic() + self.hold_seconds
        raise SinkUnavailableError(
            f"writing {len(pending)} rows to {self.table_id(table)} failed {attempts} "
            f"time(s); last error: {last_error[:300]}",
            unwritten=sorted(pending),
            refused=_refusals(batch, permanent),
        )


def _refusals(batch: Batch, entries: list[dict[str, Any]]) -> list[Refusal]:
    """Return the refused rows of ``batch`` with BigQuery's reasons, one per row."""
    refused: dict[int, list[str]] = {}
    for entry in entries:
        reasons = [f"{e.get('reason', '')}: {e.get('message', '')}" for e in entry["errors"]]
        refused.setdefault(int(entry["index"]), []).extend(reasons)
    return [(*batch[index], "; ".join(reasons)) for index, reasons in sorted(refused.items())]


def _transient_entry(entry: dict[str, Any]) -> bool:
    return any(error.get("reason") in TRANSIENT_REASONS for error in entry.get("errors", []))


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
