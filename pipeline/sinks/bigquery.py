"""The BigQuery sink: streaming inserts with the row key as insert id; rejected rows dead-lettered.

Beam's own ``WriteToBigQuery`` gives every row a random insert id, so a
message Pub/Sub redelivers would be inserted twice. This sink uses each
row's key (the source event id, or ``order_id|item_id`` for lines) as the
``insertId``, which BigQuery uses for best-effort deduplication (about a
minute; the deduplicated views do the rest). BigQuery takes insert ids of at
most 128 characters and a line key can be longer (a 128-character order id
and ``|n``): a longer key is sent as its SHA-256 digest (:func:`insert_id`),
the same on every retry; the row keeps its key.

Requests hold at most 500 rows and stay under ``insertAll``'s 10 MB: each
row is measured as the JSON the client sends (:meth:`InsertRowsFn.encode`)
and batches are cut below the limit (:mod:`pipeline.sinks.batches`); a row
too large to send alone is dead-lettered with that reason. Rows BigQuery
refuses become dead letters of their source message (``sink_rejected``).
Errors of the whole request, transport failures included, are retried with
exponential backoff a bounded number of times (5 attempts of at most 20 s
each: about two minutes at most; :mod:`pipeline.sinks.outages` says which
errors these are). The client library's own retry is off, or it would retry
each call for up to ten minutes. When they persist, the batch's messages
become dead letters (``sink_unavailable``, counted and alerted) and the job
keeps moving: a streaming job that retried the bundle forever would hold its
watermark back and never close a dead-letter window. Any other exception is
a bug and fails the bundle.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol

import apache_beam as beam
from apache_beam.pvalue import PCollection
from typing_extensions import override

from pipeline import endpoints
from pipeline.errors import SinkUnavailableError
from pipeline.model import FactRow
from pipeline.sinks.batches import Batch
from pipeline.sinks.outages import Retries, describe, is_unavailable
from pipeline.sinks.refusals import Refusal
from pipeline.sinks.warehouse_sink import WarehouseSinkFn

TRANSIENT_REASONS = frozenset({"backendError", "internalError", "rateLimitExceeded", "timeout"})
MAX_INSERT_ID: Final = 128
"""BigQuery's limit on an ``insertId``, in characters."""
MAX_REQUEST_ROWS: Final = 500
MAX_REQUEST_BYTES: Final = 10_000_000
"""``insertAll``'s limit on an HTTP request (10 MB)."""
REQUEST_ENVELOPE_BYTES: Final = 64 * 1024
"""Kept free in each request for what surrounds the rows (under 100 bytes today)."""
ROW_FRAMING_BYTES: Final = len('{"json": , "insertId": }, ')
"""What the client's JSON adds around one row and its insert id."""


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


def insert_id(key: str) -> str:
    """Return the ``insertId`` of a row key: the key itself, or its digest when too long.

    Keys within BigQuery's 128 characters (and bytes) are sent as they are; a
    longer one as ``sha256:`` and its hex digest (71 ASCII characters), which
    is the same for every delivery and retry of the row.
    """
    if len(key) <= MAX_INSERT_ID and len(key.encode()) <= MAX_INSERT_ID:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def default_client(project: str) -> InsertClient:
    """Return a BigQuery client for ``project`` (empty: the environment's default)."""
    client: InsertClient = endpoints.bigquery_client(project)
    return client


class InsertRowsFn(WarehouseSinkFn):
    """Insert each message's rows into ``project.dataset.<table>`` in batches."""

    sink_name = "BigQuery"
    max_batch_rows = MAX_REQUEST_ROWS
    max_batch_bytes = MAX_REQUEST_BYTES - REQUEST_ENVELOPE_BYTES

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
        self.retries = Retries(max_attempts, base_delay, hold_seconds)
        self.request_timeout = request_timeout
        self._client: InsertClient | None = None

    @override
    def setup(self) -> None:
        self._client = self.client_factory(self.project)

    def table_id(self, table: str) -> str:
        """Return the fully qualified id of ``table``."""
        prefix = f"{self.project}." if self.project else ""
        return f"{prefix}{self.dataset}.{table}"

    @override
    def encode(self, row: FactRow) -> tuple[Any, int]:
        """Return the row's values and the bytes they take in ``insertAll``'s JSON body."""
        size = len(json.dumps(row.row)) + len(json.dumps(insert_id(row.key))) + ROW_FRAMING_BYTES
        return row.row, size

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
        attempts = self.retries.attempts(table)
        for attempt in range(1, attempts + 1):
            try:
                errors = self._client.insert_rows_json(
                    self.table_id(table),
                    [batch[i].payload for i in pending],
                    row_ids=[insert_id(batch[i].row.key) for i in pending],
                    skip_invalid_rows=True,
                    # This loop is the retry policy: the library's own would retry for
                    # up to 10 minutes per call and hide the bound.
                    retry=None,
                    timeout=self.request_timeout,
                )
            # Sorted by is_unavailable; anything else is a bug and is raised again.
            except Exception as error:
                if not is_unavailable(error):
                    raise
                last_error = describe(error)
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
                    self.retries.wrote(table)
                    return permanent
                last_error = "transient row errors: " + "; ".join(
                    f"{e.get('reason', '')}" for e in errors[0].get("errors", [])
                )
            if attempt == attempts:
                break
            self.retries.back_off(attempt)
        self.retries.gave_up(table)
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
    return [
        (batch[index].row, batch[index].record, "; ".join(reasons))
        for index, reasons in sorted(refused.items())
    ]


def _transient_entry(entry: dict[str, Any]) -> bool:
    return any(error.get("reason") in TRANSIENT_REASONS for error in entry.get("errors", []))


class WriteWithStreamingInserts(beam.PTransform[PCollection[Any], Any]):
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
