"""The model of a release whose image predates the model declarations, recorded beside it.

The warehouse contracts declare their model (a table's ``source_event``,
``lines``, ``line_order``, ``only_when`` and ``key_column``, every column's
``source``) since 2026-11-26. Release 1 is older: its image declares none,
and its rows were built by hand-written code. So that the gate can judge a
change to the model against release 1 as against any later release (whose
image declares its model itself, see :mod:`contracts.model_changes`), the
model that code ran is recorded beside the image, in the declarations' own
terms: ``registry/r0001.model.json``. The declarations first written
transcribe that code exactly (the golden rows did not change when the row
builders replaced it), and they are what the file holds.

:meth:`contracts.registry.Registry.image` reads the record with the image;
:func:`with_recorded_model` lends it to a table whose image declares no model.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from contracts.bigquery_schema import Table

SUFFIX: Final = ".model.json"
"""A record's name is its release image's stem with this suffix: ``r0001.model.json``."""


@dataclass(frozen=True)
class RecordedTable:
    """The model of one table as a release's code ran it, in the declarations' terms."""

    source_event: str
    lines: str
    line_order: tuple[str, ...]
    only_when: str
    key_column: str
    sources: Mapping[str, str]
    """Per top-level column the pipeline writes: its source."""


def record_path(image: Path) -> Path:
    """Return where the model of release image ``image`` (``rNNNN.binpb``) is recorded."""
    return image.with_name(image.stem + SUFFIX)


def load_record(path: Path) -> dict[str, RecordedTable]:
    """Read a record (see :func:`render_record`); per table name, its model."""
    data: dict[str, Any] = json.loads(path.read_text())
    return {
        name: RecordedTable(
            source_event=table["source_event"],
            lines=table["lines"],
            line_order=tuple(table["line_order"]),
            only_when=table["only_when"],
            key_column=table["key_column"],
            sources=dict(table["sources"]),
        )
        for name, table in data["tables"].items()
    }


def render_record(tables: list[Table], note: str) -> str:
    """Return the record of the model ``tables`` declare, ``note`` saying whose model it is."""
    data = {
        "note": note,
        "tables": {
            table.name: {
                "source_event": table.source_event,
                "lines": table.lines,
                "line_order": list(table.line_order),
                "only_when": table.only_when,
                "key_column": table.key_column,
                "sources": {c.name: c.source for c in table.columns if c.source},
            }
            for table in tables
        },
    }
    return json.dumps(data, indent=2) + "\n"


def with_recorded_model(table: Table, recorded: RecordedTable | None) -> Table:
    """Return ``table`` with the recorded model when its image declares none, else as it is."""
    if recorded is None or table.source_event:
        return table
    columns = tuple(
        dataclasses.replace(column, source=recorded.sources.get(column.name, ""))
        for column in table.columns
    )
    return dataclasses.replace(
        table,
        columns=columns,
        source_event=recorded.source_event,
        lines=recorded.lines,
        line_order=recorded.line_order,
        only_when=recorded.only_when,
        key_column=table.key_column or recorded.key_column,
    )
