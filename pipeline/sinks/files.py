"""The files sink: one NDJSON file of deduplicated rows per table (bounded runs and tests)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from apache_beam.io.textio import WriteToText
from apache_beam.pvalue import PCollection
from typing_extensions import override

from pipeline.model import TABLES, FactRow
from pipeline.record import MessageRows, PubsubRecord


def keyed_rows(element: list[MessageRows]) -> list[tuple[str, tuple[FactRow, PubsubRecord]]]:
    """Split messages' rows, each keyed by ``table/key`` for deduplication."""
    return [(f"{row.table}/{row.key}", (row, record)) for rows, record in element for row in rows]


def first_row(grouped: tuple[str, Iterable[tuple[FactRow, PubsubRecord]]]) -> FactRow:
    """Return one row of a group sharing a key: the same one whatever the delivery order."""
    _, elements = grouped
    rows = [row for row, _ in elements]
    return min(rows, key=lambda row: json.dumps(row.row, sort_keys=True))


class WriteRowFiles(beam.PTransform[PCollection[Any], Any]):
    """Write ``<output_dir>/<table>.ndjson``, one row per key (duplicates collapse)."""

    def __init__(self, output_dir: str) -> None:
        super().__init__()
        self.output_dir = output_dir.rstrip("/")

    @override
    def expand(self, rows: PCollection[Any]) -> Any:
        unique = (
            rows
            | "KeyByRowKey"
            >> beam.FlatMap(keyed_rows).with_output_types(tuple[str, tuple[FactRow, PubsubRecord]])
            | "GroupByRowKey" >> beam.GroupByKey()
            | "OnePerKey" >> beam.Map(first_row).with_output_types(FactRow)
        )
        for table in TABLES:
            _ = (
                unique
                | f"Select_{table}" >> beam.Filter(lambda row, t=table: row.table == t)
                | f"Json_{table}" >> beam.Map(lambda row: json.dumps(row.row, sort_keys=True))
                | f"Write_{table}"
                >> WriteToText(
                    f"{self.output_dir}/{table}", file_name_suffix=".ndjson", shard_name_template=""
                )
            )
        return rows.pipeline | "NoRejectedRows" >> beam.Create([])
