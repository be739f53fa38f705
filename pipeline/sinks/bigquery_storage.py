"""BigQuery through the Storage Write API (``--bq_write_method storage_write_api``).

Rows are appended to each table's default stream with the official client
(``google-cloud-bigquery-storage``, ``AppendRows``), as proto messages whose
descriptor comes from the fact contracts (:mod:`pipeline.sinks.proto_rows`).
It is cheaper than streaming inserts and has higher quotas; it is at least
once (the default stream has no insert ids: a redelivered message can add its
rows again, which the ``_dedup`` views absorb). Beam's own connector is not
used: its Python side cannot carry DATE columns and its Java side needs Java
and an expansion service at launch; see the README.

The sink is a :class:`~pipeline.sinks.warehouse_sink.WarehouseSinkFn` like
the streaming-insert one, so a refusal keeps its message:

- a row whose values cannot become its table's proto (a wrong type, a
  malformed date, a NUMERIC out of range) or that is too large for a request
  is refused before anything is sent;
- batches stay under ``AppendRows``' 10 MB (each row counted as its
  serialized message and framing; :mod:`pipeline.sinks.batches`);
- when BigQuery refuses rows of a request (``row_errors``), it appends none of
  it: the refused rows become ``sink_rejected`` dead letters of their
  messages, and the rest of the batch is sent again;
- a request that fails as a whole (the service unreachable, no answer in
  time, a missing table) is retried with backoff a bounded number of times
  (:mod:`pipeline.sinks.outages`), then its messages become
  ``sink_unavailable`` dead letters, and the job keeps moving.

Missing values are sent as "use the column's default"
(``DEFAULT_VALUE``), so BigQuery fills ``ingestion_timestamp`` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import apache_beam as beam
from apache_beam.pvalue import PCollection
from typing_extensions import override

from pipeline import endpoints
from pipeline.errors import SinkUnavailableError
from pipeline.model import TABLES, FactRow
from pipeline.sinks.append_rows import AppendRowsConnection
from pipeline.sinks.batches import Batch
from pipeline.sinks.outages import Retries, describe, is_unavailable
from pipeline.sinks.proto_rows import ProtoRowFormat, proto_row_format
from pipeline.sinks.refusals import Refusal
from pipeline.sinks.warehouse_sink import WarehouseSinkFn

MAX_REQUEST_BYTES: Final = 10_000_000
"""``AppendRows``' limit on one request (10 MB)."""
REQUEST_ENVELOPE_BYTES: Final = 64 * 1024
"""Kept free in each request for the stream name, the table's descriptor and flags (2 KB today)."""
ROW_FRAMING_BYTES: Final = 6
"""What a serialized row costs beyond itself in ``ProtoRows``: a tag and a length of <= 5 bytes."""
TRACE_ID: Final = "ecom-ingest"


def default_client() -> Any:
    """Return a ``BigQueryWriteClient`` (on the emulator when one is named)."""
    return endpoints.bigquery_write_client()


def default_project() -> str:
    """Return the environment's project (Dataflow workers: the job's)."""
    import google.auth

    _, project = google.auth.default()
    return str(project or "")


class AppendRowsFn(WarehouseSinkFn):
    """Append each message's rows to ``project.dataset.<table>``'s default stream in batches."""

    sink_name = "BigQuery (Storage Write API)"
    max_batch_rows = 10_000
    max_batch_bytes = MAX_REQUEST_BYTES - REQUEST_ENVELOPE_BYTES

    def __init__(
        self,
        project: str,
        dataset: str,
        client_factory: Callable[[], Any] = default_client,
        connection_factory: Callable[[Any, str], Any] = AppendRowsConnection,
        max_attempts: int = 5,
        base_delay: float = 0.5,
        hold_seconds: float = 60.0,
        request_timeout: float = 20.0,
    ) -> None:
        super().__init__()
        self.project = project
        self.dataset = dataset
        self.client_factory = client_factory
        self.connection_factory = connection_factory
        self.retries = Retries(max_attempts, base_delay, hold_seconds)
        self.request_timeout = request_timeout
        self._client: Any = None
        self._connections: dict[str, Any] = {}
        self._formats: dict[str, ProtoRowFormat] = {}

    @override
    def setup(self) -> None:
        self.project = self.project or default_project()
        self._client = self.client_factory()
        self._formats = {table: proto_row_format(table) for table in TABLES}

    @override
    def teardown(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections = {}
        # The client's channel too: a local streaming run sets a DoFn up for every bundle.
        transport = getattr(self._client, "transport", None)
        if transport is not None:
            transport.close()
        self._client = None

    def stream(self, table: str) -> str:
        """Return the name of ``table``'s default stream."""
        return f"projects/{self.project}/datasets/{self.dataset}/tables/{table}/streams/_default"

    @override
    def encode(self, row: FactRow) -> tuple[Any, int]:
        """Return the row as a serialized message, and the bytes it takes in a request."""
        serialized = self._formats[row.table].encode(row.row)
        return serialized, len(serialized) + ROW_FRAMING_BYTES

    def request(self, table: str, rows: list[bytes]) -> Any:
        """Return the ``AppendRowsRequest`` of ``rows`` (serialized messages) for ``table``."""
        from google.cloud.bigquery_storage_v1 import types

        request = types.AppendRowsRequest.pb()()
        request.write_stream = self.stream(table)
        request.trace_id = TRACE_ID
        request.proto_rows.writer_schema.proto_descriptor.CopyFrom(self._formats[table].descriptor)
        request.proto_rows.rows.serialized_rows.extend(rows)
        request.default_missing_value_interpretation = (
            types.AppendRowsRequest.MissingValueInterpretation.DEFAULT_VALUE
        )
        return types.AppendRowsRequest.wrap(request)

    def _connection(self, table: str) -> Any:
        connection = self._connections.get(table)
        if connection is None:
            connection = self._connections[table] = self.connection_factory(
                self._client, self.stream(table)
            )
        return connection

    @override
    def write(self, table: str, batch: Batch) -> list[Refusal]:
        """Append ``batch``; return the rows BigQuery refused.

        Raises SinkUnavailableError (with the unwritten positions and the rows
        refused so far) when the retries run out.
        """
        from google.cloud.bigquery_storage_v1 import types

        pending = list(range(len(batch)))
        refused: dict[int, str] = {}
        attempts, failures, last_error = self.retries.attempts(table), 0, ""
        while pending:
            request = self.request(table, [batch[i].payload for i in pending])
            try:
                response = self._connection(table).append(request, self.request_timeout)
            # Sorted by is_unavailable; anything else is a bug and is raised again.
            except Exception as error:
                if not is_unavailable(error):
                    raise
                last_error = describe(error)
            else:
                answer = types.AppendRowsResponse.pb(response)
                refusals = {
                    pending[e.index]: f"{_code_name(e)}: {e.message}"
                    for e in answer.row_errors
                    if 0 <= e.index < len(pending)
                }
                if refusals:  # nothing of the request was appended: send the rest again
                    self.retries.wrote(table)
                    refused.update(refusals)
                    pending = [i for i in pending if i not in refusals]
                    continue
                if not answer.HasField("error") or answer.error.code == 0:
                    self.retries.wrote(table)
                    break
                last_error = f"status {answer.error.code}: {answer.error.message}"[:300]
            failures += 1
            if failures >= attempts:
                self.retries.gave_up(table)
                raise SinkUnavailableError(
                    f"appending {len(pending)} rows to {self.stream(table)} failed {failures} "
                    f"time(s); last error: {last_error}",
                    unwritten=pending,
                    refused=_refusals(batch, refused),
                )
            self.retries.back_off(failures)
        return _refusals(batch, refused)


def _code_name(row_error: Any) -> str:
    """Return the name of a ``RowError``'s code (its number when this client does not know it)."""
    codes = row_error.DESCRIPTOR.fields_by_name["code"].enum_type.values_by_number
    known = codes.get(row_error.code)
    return known.name if known is not None else str(row_error.code)


def _refusals(batch: Batch, refused: dict[int, str]) -> list[Refusal]:
    return [
        (batch[index].row, batch[index].record, reason) for index, reason in sorted(refused.items())
    ]


class WriteWithStorageApi(beam.PTransform[PCollection[Any], Any]):
    """Append rows to ``project.dataset.<table>``; return dead-letter lines of refused rows."""

    def __init__(self, project: str, dataset: str) -> None:
        super().__init__()
        # Built now, so a contract the proto rows cannot express fails the job's construction.
        for table in TABLES:
            proto_row_format(table)
        self.fn = AppendRowsFn(project, dataset)

    @override
    def expand(self, rows: PCollection[Any]) -> Any:
        return rows | "AppendRows" >> beam.ParDo(self.fn)
