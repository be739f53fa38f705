"""Per-table batches: cut by rows and by request bytes; a row larger than a request is refused."""

from __future__ import annotations

import pytest

from pipeline.errors import SinkRejectedError
from pipeline.model import FactRow
from pipeline.record import PubsubRecord
from pipeline.sinks.batches import Pending, TableBatches


def _pending(key: str, table: str = "fact_inventory") -> Pending:
    return Pending(FactRow(table, key, {"event_id": key}), PubsubRecord(b"", {}, key), key)


def _keys(batches: list[list[Pending]]) -> list[list[str]]:
    return [[pending.row.key for pending in batch] for batch in batches]


def test_a_batch_is_cut_before_the_row_that_would_pass_the_byte_budget():
    batches = TableBatches(max_rows=100, max_bytes=10)
    assert batches.add(_pending("a"), 4) == []
    assert batches.add(_pending("b"), 6) == []  # exactly the budget
    assert _keys(batches.add(_pending("c"), 1)) == [["a", "b"]]
    assert _keys([batches.take("fact_inventory")]) == [["c"]]


def test_a_batch_is_cut_at_its_row_limit_and_tables_are_kept_apart():
    batches = TableBatches(max_rows=2, max_bytes=None)
    assert batches.add(_pending("a"), 10**9) == []
    assert batches.add(_pending("x", "fact_order"), 1) == []
    assert _keys(batches.add(_pending("b"), 10**9)) == [["a", "b"]]
    assert batches.tables() == ["fact_order"]


def test_a_row_over_the_budget_alone_is_refused_and_nothing_is_added():
    batches = TableBatches(max_rows=100, max_bytes=10)
    batches.add(_pending("a"), 5)
    with pytest.raises(SinkRejectedError, match="takes 11 bytes in a request, over the 10-byte"):
        batches.add(_pending("big"), 11)
    assert _keys([batches.take("fact_inventory")]) == [["a"]]


def test_a_row_limit_of_one_cuts_after_every_row_even_after_a_byte_cut():
    batches = TableBatches(max_rows=1, max_bytes=10)
    assert _keys(batches.add(_pending("a"), 8)) == [["a"]]
    batches = TableBatches(max_rows=2, max_bytes=10)
    batches.add(_pending("a"), 8)
    assert _keys(batches.add(_pending("b"), 8)) == [["a"]]
    assert _keys(batches.add(_pending("c"), 1)) == [["b", "c"]]
