"""What the local run found: warehouse counts, dead letters, latency, and the seed's queries."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.model import TABLES
from pipeline.warehouse import translate_query

QUERIES_DIR = Path(__file__).resolve().parent.parent / "sql" / "queries"
SOURCE_TABLES = ("fact_order_header", "fact_inventory", "fact_user_activity")
"""Tables with one row per source event: their event ids are the events that landed."""


@dataclass
class DeadLetterScan:
    """Dead-letter records found so far (files are final once written)."""

    by_message: dict[str, str] = field(default_factory=dict)
    """Reason of each dead-lettered message, by message id."""
    _seen_files: set[str] = field(default_factory=set)

    def scan(self, folder: Path) -> None:
        """Read the dead-letter files that appeared since the last scan."""
        for path in sorted(folder.glob("*.ndjson")):
            if path.name in self._seen_files:
                continue
            for line in path.read_text().splitlines():
                letter = json.loads(line)
                reason = letter["reason"].removeprefix("REASON_").lower()
                self.by_message[letter.get("messageId", "")] = reason
            self._seen_files.add(path.name)

    def by_reason(self) -> dict[str, int]:
        """Return the number of dead-lettered messages per reason."""
        counts: dict[str, int] = {}
        for reason in self.by_message.values():
            counts[reason] = counts.get(reason, 0) + 1
        return dict(sorted(counts.items()))


def landed_events(connection: Any) -> set[str]:
    """Return the ids of the source events that have rows in the warehouse."""
    union = " UNION ".join(f"SELECT event_id FROM events.{table}" for table in SOURCE_TABLES)
    return {row[0] for row in connection.execute(union).fetchall()}


def landed_count(connection: Any) -> int:
    """Return how many source events have rows in the warehouse (counted in the database)."""
    union = " UNION ".join(f"SELECT event_id FROM events.{table}" for table in SOURCE_TABLES)
    count: int = connection.execute(f"SELECT count(*) FROM ({union})").fetchall()[0][0]
    return count


def row_counts(connection: Any) -> dict[str, int]:
    """Return the number of rows per fact table."""
    return {
        table: connection.execute(f"SELECT count(*) FROM events.{table}").fetchall()[0][0]
        for table in TABLES
    }


def ingestion_times(connection: Any) -> dict[str, float]:
    """Return when each source event's row was stored (epoch seconds), by event id."""
    union = " UNION ALL ".join(
        f"SELECT event_id, epoch_ms(ingestion_timestamp) FROM events.{table}"
        for table in SOURCE_TABLES
    )
    return {row[0]: row[1] / 1000 for row in connection.execute(union).fetchall()}


def percentiles(values: list[float]) -> dict[str, float]:
    """Return p50 and p99 of ``values`` (seconds), rounded to milliseconds."""
    if len(values) < 2:
        return {
            "p50": round(values[0], 3) if values else 0.0,
            "p99": round(values[0], 3) if values else 0.0,
        }
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(cuts[49], 3), "p99": round(cuts[98], 3)}


def run_queries(connection: Any) -> dict[str, dict[str, Any]]:
    """Run every ``sql/queries/*.sql`` (BigQuery SQL, translated by sqlglot) on DuckDB."""
    results = {}
    for path in sorted(QUERIES_DIR.glob("*.sql")):
        cursor = connection.execute(translate_query(path.read_text()))
        columns = [description[0] for description in cursor.description]
        rows = [[_plain(value) for value in row] for row in cursor.fetchall()]
        results[path.stem] = {"columns": columns, "rows": rows}
    return results


def _plain(value: Any) -> Any:
    """Return a JSON-friendly value: decimals as exact strings, timestamps as ISO text."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return value


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
