"""The DuckDB sink: the local warehouse, deduplicated by row key, refused rows dead-lettered."""

from __future__ import annotations

import atexit
import threading
from operator import itemgetter
from pathlib import Path
from typing import Any, ClassVar

import apache_beam as beam
from apache_beam.pvalue import PCollection
from typing_extensions import override

from pipeline.model import Row
from pipeline.sinks.batches import Batch
from pipeline.sinks.refusals import Refusal
from pipeline.sinks.warehouse_sink import WarehouseSinkFn
from pipeline.warehouse import DATASET, create_tables


class InsertDuckDBFn(WarehouseSinkFn):
    """Insert each bundle's rows per table with ``INSERT OR IGNORE``.

    A redelivered message's rows hit the unique row-key index and are ignored:
    the local sink's idempotency key. A batch the database refuses is retried
    row by row; the rows it still refuses become dead letters of their message.

    One connection per file serves every instance in the process, and the
    tables are made ready once: the streaming DirectRunner sets a DoFn up for
    every bundle, and opening the file and checking its tables each time cost
    more than the writes. The connection closes when the process ends.
    """

    sink_name = "DuckDB"
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _connections: ClassVar[dict[str, Any]] = {}

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self._connection: Any = None

    @override
    def setup(self) -> None:
        self._connection = self.connection(self.path)

    @classmethod
    def connection(cls, path: str) -> Any:
        """Return the process's connection to the warehouse at ``path``, readying it once."""
        import duckdb

        key = str(Path(path).resolve())
        with cls._lock:
            connection = cls._connections.get(key)
            if connection is None:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                connection = duckdb.connect(path)
                create_tables(connection)
                cls._connections[key] = connection
                atexit.register(connection.close)
            return connection

    @override
    def write(self, table: str, batch: Batch) -> list[Refusal]:
        """Insert a batch as one Arrow table; on failure, row by row to find the refused ones."""
        import duckdb
        import pyarrow as pa

        unique = {row.key: (row, record) for row, record, _ in batch}
        columns = list(next(iter(unique.values()))[0].row)
        column_list = ", ".join(columns)
        statement = f"INSERT OR IGNORE INTO {DATASET}.{table} ({column_list}) "
        refused: list[Refusal] = []
        with self._lock:
            cursor = self._connection.cursor()
            try:
                cursor.register("batch", arrow_table([row.row for row, _ in unique.values()]))
                cursor.execute(statement + f"SELECT {column_list} FROM batch")
                return refused
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
        return refused


def arrow_table(rows: list[Row]) -> Any:
    """Return ``rows`` as one Arrow table, column by column, each column's type inferred.

    The rows of one table come from one builder and share its columns; a row
    without one of the first row's columns is read as ``pa.Table.from_pylist``
    reads it (the column null there).
    """
    import pyarrow as pa

    columns = list(rows[0])
    try:
        if len(columns) == 1:
            values: Any = [[row[columns[0]] for row in rows]]
        else:
            values = zip(*map(itemgetter(*columns), rows), strict=True)
    except KeyError:
        return pa.Table.from_pylist(rows)
    return pa.Table.from_arrays([pa.array(column) for column in values], names=columns)


class WriteToDuckDB(beam.PTransform[PCollection[Any], Any]):
    """Insert rows into the DuckDB file at ``path``; return dead-letter lines of refused rows."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    @override
    def expand(self, rows: PCollection[Any]) -> Any:
        return rows | "InsertRows" >> beam.ParDo(InsertDuckDBFn(self.path))
