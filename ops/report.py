"""What the local run found: warehouse counts, dead letters, latency, and the seed's queries.

Every question is asked once, in BigQuery's SQL, of a :class:`WarehouseReader`:
DuckDB answers it translated by sqlglot (:class:`DuckDBReader`), the BigQuery
emulator or BigQuery itself answers it as written (:class:`BigQueryReader`).
Dead letters are read where the pipeline wrote them, a folder or ``gs://``.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from pipeline.model import TABLES
from pipeline.warehouse import translate_query


class WarehouseReader(Protocol):
    """Answers a query written in BigQuery's SQL: column names and rows."""

    def query(self, bigquery_sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run ``bigquery_sql``; return its column names and rows."""


@dataclass
class DuckDBReader:
    """A DuckDB connection (the local warehouse), queries translated by sqlglot."""

    connection: Any

    def query(self, bigquery_sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run ``bigquery_sql`` translated to DuckDB."""
        cursor = self.connection.execute(translate_query(bigquery_sql))
        return [d[0] for d in cursor.description], [tuple(row) for row in cursor.fetchall()]


@dataclass
class BigQueryReader:
    """A BigQuery client (the emulator or BigQuery), queries run as written."""

    client: Any

    deadline: float = 30.0
    """Seconds a query is retried before the reader gives up (an unreachable BigQuery)."""

    def query(self, bigquery_sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run ``bigquery_sql`` in the client's project; raise past ``deadline``."""
        from google.cloud.bigquery import DEFAULT_RETRY

        retry = DEFAULT_RETRY.with_deadline(self.deadline)
        job = self.client.query(bigquery_sql, retry=retry, job_retry=None)
        result = job.result(retry=retry, timeout=self.deadline)
        return [f.name for f in result.schema], [tuple(row.values()) for row in result]


def _reader(warehouse: Any) -> WarehouseReader:
    """Return ``warehouse`` as a reader (a bare DuckDB connection is wrapped)."""
    readers = (DuckDBReader, BigQueryReader)
    return warehouse if isinstance(warehouse, readers) else DuckDBReader(warehouse)


QUERIES_DIR = Path(__file__).resolve().parent.parent / "sql" / "queries"
SOURCE_TABLES = ("fact_order_header", "fact_inventory", "fact_user_activity")
"""Tables with one row per source event: their event ids are the events that landed."""


@dataclass
class DeadLetterScan:
    """Dead-letter records found so far (files are final once written)."""

    by_message: dict[str, str] = field(default_factory=dict)
    """Reason of each dead-lettered message, by message id."""
    _seen_files: set[str] = field(default_factory=set)

    def scan(self, prefix: Path | str) -> None:
        """Read the dead-letter files under ``prefix`` (a folder or ``gs://``) new since the last.

        A file is read once its final name exists (the writer renames it into place).
        """
        from apache_beam.io.filesystems import FileSystems

        matched = FileSystems.match([f"{str(prefix).rstrip('/')}/*.ndjson"])[0].metadata_list
        for path in sorted(m.path for m in matched):
            if path in self._seen_files:
                continue
            with FileSystems.open(path) as handle:
                text = handle.read().decode()
            for line in text.splitlines():
                letter = json.loads(line)
                reason = letter["reason"].removeprefix("REASON_").lower()
                self.by_message[letter.get("messageId", "")] = reason
            self._seen_files.add(path)

    def by_reason(self) -> dict[str, int]:
        """Return the number of dead-lettered messages per reason."""
        counts: dict[str, int] = {}
        for reason in self.by_message.values():
            counts[reason] = counts.get(reason, 0) + 1
        return dict(sorted(counts.items()))


_LANDED = " UNION DISTINCT ".join(f"SELECT event_id FROM events.{t}" for t in SOURCE_TABLES)


def landed_events(warehouse: Any) -> set[str]:
    """Return the ids of the source events that have rows in the warehouse.

    ``warehouse`` is a :class:`WarehouseReader` or a DuckDB connection.
    """
    return {row[0] for row in _reader(warehouse).query(_LANDED)[1]}


def landed_count(warehouse: Any) -> int:
    """Return how many source events have rows in the warehouse (counted in the database)."""
    count: int = _reader(warehouse).query(f"SELECT COUNT(*) FROM ({_LANDED})")[1][0][0]
    return count


def row_counts(warehouse: Any, view_suffix: str = "") -> dict[str, int]:
    """Return the number of rows per fact table (of its view, with ``view_suffix="_dedup"``)."""
    reader = _reader(warehouse)
    return {
        table: int(reader.query(f"SELECT COUNT(*) FROM events.{table}{view_suffix}")[1][0][0])
        for table in TABLES
    }


def ingestion_times(warehouse: Any) -> dict[str, float]:
    """Return when each source event's row was first stored (epoch seconds), by event id."""
    union = " UNION ALL ".join(
        f"SELECT event_id, UNIX_MILLIS(ingestion_timestamp) AS ms FROM events.{table}"
        for table in SOURCE_TABLES
    )
    rows = _reader(warehouse).query(f"SELECT event_id, MIN(ms) FROM ({union}) GROUP BY event_id")
    return {row[0]: row[1] / 1000 for row in rows[1]}


def percentiles(values: list[float]) -> dict[str, float]:
    """Return p50 and p99 of ``values`` (seconds), rounded to milliseconds."""
    if len(values) < 2:
        return {
            "p50": round(values[0], 3) if values else 0.0,
            "p99": round(values[0], 3) if values else 0.0,
        }
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(cuts[49], 3), "p99": round(cuts[98], 3)}


def run_queries(warehouse: Any) -> dict[str, dict[str, Any]]:
    """Run every ``sql/queries/*.sql`` (BigQuery SQL; translated by sqlglot for DuckDB)."""
    reader = _reader(warehouse)
    results = {}
    for path in sorted(QUERIES_DIR.glob("*.sql")):
        columns, rows = reader.query(path.read_text())
        results[path.stem] = {"columns": columns, "rows": [[_plain(v) for v in r] for r in rows]}
    return results


def _plain(value: Any) -> Any:
    """Return a JSON-friendly value the two engines agree on.

    Decimals as exact strings; timestamps in UTC as ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``
    (a naive one is UTC: the warehouse stores UTC); dates as ``YYYY-MM-DD``.
    """
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def query_differences(
    first: dict[str, dict[str, Any]], second: dict[str, dict[str, Any]]
) -> dict[str, str]:
    """Return, per query, how two engines' answers differ (no entry: the same answer)."""
    differences = {}
    for name in sorted(first.keys() | second.keys()):
        one, other = first.get(name), second.get(name)
        if one is None or other is None:
            differences[name] = "answered by one engine only"
        elif one["columns"] != other["columns"]:
            differences[name] = f"columns {one['columns']} against {other['columns']}"
        elif one["rows"] != other["rows"]:
            counts = f"{len(one['rows'])} rows against {len(other['rows'])}"
            pairs = zip(one["rows"], other["rows"], strict=False)
            first_difference = next((i for i, (a, b) in enumerate(pairs) if a != b), None)
            if first_difference is None:
                differences[name] = counts
            else:
                differences[name] = (
                    f"{counts}; row {first_difference + 1}: {one['rows'][first_difference]} "
                    f"against {other['rows'][first_difference]}"
                )
    return differences


def format_table(columns: list[str], rows: list[list[Any]], limit: int = 8) -> str:
    """Return ``rows`` as an aligned text table, the first ``limit`` rows and a count."""
    shown = [[str(value) for value in row] for row in rows[:limit]]
    widths = [max([len(c), *(len(r[i]) for r in shown)]) for i, c in enumerate(columns)]
    lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in shown]
    if len(rows) > limit:
        lines.append(f"  ... {len(rows) - limit} more rows ({len(rows)} in all)")
    if not rows:
        lines.append("  (no rows)")
    return "\n".join(lines)
