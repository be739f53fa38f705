"""The DuckDB sink: the local warehouse, deduplicated by row key, refused rows dead-lettered."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import apache_beam as beam
from apache_beam.pvalue import PCollection
from typing_extensions import override

from pipeline.deadletter import dead_letter, delivery_key, keyed_line
from pipeline.errors import SinkRejectedError
from pipeline.model import FactRow
from pipeline.record import PubsubRecord
from pipeline.transforms import MessageRows, outcome_counter
from pipeline.warehouse import DATASET, create_tables


class InsertDuckDBFn(beam.DoFn):
    """Buffer rows per table for a bundle; ``INSERT OR IGNORE`` them at its end.

    A redelivered message's rows hit the unique row-key index and are ignored:
    the local sink's idempotency key. A batch the database refuses is retried
    row by row; the rows it still refuses become dead letters of their message.
    """

    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: Any = None
        self._buffer: dict[str, list[tuple[FactRow, PubsubRecord]]] = {}

    @override
    def setup(self) -> None:
        import duckdb

        with self._lock:
            self._connection = duckdb.connect(self.path)
            create_tables(self._connection)

    @override
    def teardown(self) -> None:
        if self._connection is not None:
            self._connection.close()

    @override
    def start_bundle(self) -> None:
        self._buffer = {}

    @override
    def process(self, element: list[MessageRows]) -> None:
        for rows, record in element:
            for row in rows:
                self._buffer.setdefault(row.table, []).append((row, record))

    @override
    def finish_bundle(self) -> Iterator[Any]:
        from apache_beam.transforms.window import GlobalWindow
        from apache_beam.utils.windowed_value import WindowedValue

        for table, batch in self._buffer.items():
            for line in self._insert(table, batch):
                yield WindowedValue(line, 0, (GlobalWindow(),))
        self._buffer = {}

    def _insert(
        self, table: str, batch: list[tuple[FactRow, PubsubRecord]]
    ) -> Iterator[tuple[str, str]]:
        """Insert a batch as one Arrow table; on failure, row by row to find the refused ones."""
        import duckdb
        import pyarrow as pa

        unique = {row.key: (row, record) for row, record in batch}
        columns = list(next(iter(unique.values()))[0].row)
        column_list = ", ".join(columns)
        statement = f"INSERT OR IGNORE INTO {DATASET}.{table} ({column_list}) "
        rows = [row.row for row, _ in unique.values()]
        refused = []
        with self._lock:
            cursor = self._connection.cursor()
            try:
                cursor.register("batch", pa.Table.from_pylist(rows))
                cursor.execute(statement + f"SELECT {column_list} FROM batch")
                return
            except (duckdb.Error, pa.ArrowException):
                pass  # some row is refused: find which, one by one
            finally:
                cursor.unregister("batch")
            values_statement = statement + f"VALUES ({', '.join('?' for _ in columns)})"
            for row, record in unique.values():
                try:
                    cursor.execute(values_statement, [row.row[c] for c in columns])
                except duckdb.Error as error:
                    refused.append((row, record, str(error).splitlines()[0]))
        reported: set[str] = set()
        for row, record, reason in refused:
            if delivery_key(record) in reported:
                continue  # one dead letter per message, however many of its rows were refused
            reported.add(delivery_key(record))
            outcome_counter(row.table, "sink_rejected").inc()
            detail = f"DuckDB refused a {table} row ({row.key}): {reason}"
            yield keyed_line(record, dead_letter(record, SinkRejectedError(detail)))


class WriteToDuckDB(beam.PTransform[PCollection[Any], Any]):
    """Insert rows into the DuckDB file at ``path``; return dead-letter lines of refused rows."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    @override
    def expand(self, rows: PCollection[Any]) -> Any:
        return rows | "InsertRows" >> beam.ParDo(InsertDuckDBFn(self.path))
