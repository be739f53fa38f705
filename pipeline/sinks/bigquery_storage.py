"""BigQuery through the Storage Write API (``--bq_write_method storage_write_api``).

Cheaper than streaming inserts and with higher quotas, at least once (no
insert ids: a redelivered message can add its rows again). Beam's Python
connector runs it as a Java cross-language transform (the launching machine
needs Java and fetches Beam's expansion service), and hands back refused rows
without their source message. So every row is first checked against its
table's schema here (:mod:`pipeline.sinks.conformance`), and a message with a
row that does not fit is dead-lettered with its payload before anything is
written; a row BigQuery still refuses afterwards fails the bundle loudly (the
job retries and alerts) rather than vanishing. Beam's connector does not ask
BigQuery to apply column defaults, so this sink fills ``ingestion_timestamp``
itself, at write time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.pvalue import PCollection
from typing_extensions import override

from pipeline.deadletter import DeadLetterElement
from pipeline.model import TABLES
from pipeline.record import MessageRows
from pipeline.sinks.conformance import load_schema, row_problem
from pipeline.sinks.refusals import refusal_dead_letters

CONFORMING = "conforming"


class CheckRowsFn(beam.DoFn):
    """Pass each message's rows on as ``(table, row)``; dead-letter a message with a misfit."""

    def __init__(self) -> None:
        self._schemas: dict[str, list[dict[str, Any]]] = {}

    @override
    def setup(self) -> None:
        self._schemas = {table: load_schema(table) for table in TABLES}

    @override
    def process(self, element: list[MessageRows]) -> Iterator[Any]:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for rows, record in element:
            stamped = [(row, {**row.row, "ingestion_timestamp": stamp}) for row in rows]
            problems = [
                (row, record, problem)
                for row, values in stamped
                if (problem := row_problem(self._schemas[row.table], values))
            ]
            if problems:
                table = problems[0][0].table
                yield from refusal_dead_letters("the BigQuery schema", table, problems[:1])
                continue
            for row, values in stamped:
                yield beam.pvalue.TaggedOutput(CONFORMING, (row.table, values))


def fail_loudly(failure: Any) -> None:
    """Fail the bundle on a row BigQuery refused despite the check, instead of losing it."""
    raise RuntimeError(f"BigQuery refused a row that fits its schema: {failure}")


def api_schema(table: str) -> dict[str, Any]:
    """Return ``table``'s schema as the connector takes it (names, types, modes only)."""

    def strip(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = []
        for field in fields:
            entry = {k: field[k] for k in ("name", "type", "mode")}
            if "fields" in field:
                entry["fields"] = strip(field["fields"])
            kept.append(entry)
        return kept

    return {"fields": strip(load_schema(table))}


class WriteWithStorageApi(beam.PTransform[PCollection[Any], Any]):
    """Check rows, write the conforming ones per table; return dead letters of the others."""

    def __init__(self, project: str, dataset: str) -> None:
        super().__init__()
        self.project = project
        self.dataset = dataset

    def table_spec(self, table: str) -> str:
        """Return ``project:dataset.table`` (``dataset.table`` without a project)."""
        prefix = f"{self.project}:" if self.project else ""
        return f"{prefix}{self.dataset}.{table}"

    @override
    def expand(self, messages: PCollection[Any]) -> PCollection[DeadLetterElement]:
        checked = messages | "CheckRows" >> beam.ParDo(CheckRowsFn()).with_outputs(
            CONFORMING, main="dead_letters"
        )
        for table in TABLES:
            written = (
                checked[CONFORMING]
                | f"Select_{table}" >> beam.Filter(lambda pair, t=table: pair[0] == t)
                | f"Row_{table}" >> beam.Map(lambda pair: pair[1])
                | f"Write_{table}"
                >> beam.io.WriteToBigQuery(
                    table=self.table_spec(table),
                    schema=api_schema(table),
                    method=beam.io.WriteToBigQuery.Method.STORAGE_WRITE_API,
                    use_at_least_once=True,
                    create_disposition=beam.io.BigQueryDisposition.CREATE_NEVER,
                    write_disposition=beam.io.BigQueryDisposition.WRITE_APPEND,
                )
            )
            _ = written.failed_rows_with_errors | f"FailLoudly_{table}" >> beam.Map(fail_loudly)
        dead_letters: PCollection[DeadLetterElement] = checked.dead_letters
        return dead_letters
