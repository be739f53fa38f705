"""The comparison of two engines' answers: equal answers agree, any planted difference shows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ops.report import _plain, query_differences

ANSWER: dict[str, dict[str, Any]] = {
    "q": {"columns": ["product_id", "revenue"], "rows": [["p-1", "77.45"], ["p-2", "8"]]},
}


def test_the_same_answers_have_no_difference():
    assert (
        query_differences(ANSWER, {"q": {**ANSWER["q"], "rows": list(ANSWER["q"]["rows"])}}) == {}
    )


def test_a_changed_value_a_missing_row_and_a_missing_query_each_show():
    changed = {
        "q": {"columns": ["product_id", "revenue"], "rows": [["p-1", "77.46"], ["p-2", "8"]]}
    }
    assert query_differences(ANSWER, changed) == {
        "q": "2 rows against 2; row 1: ['p-1', '77.45'] against ['p-1', '77.46']"
    }
    shorter = {"q": {"columns": ["product_id", "revenue"], "rows": [["p-1", "77.45"]]}}
    assert query_differences(ANSWER, shorter) == {"q": "2 rows against 1"}
    renamed = {"q": {"columns": ["product", "revenue"], "rows": ANSWER["q"]["rows"]}}
    assert "columns" in query_differences(ANSWER, renamed)["q"]
    assert query_differences(ANSWER, {}) == {"q": "answered by one engine only"}


def test_values_are_compared_as_the_engines_mean_them():
    aware = dt.datetime(2025, 12, 1, 11, 0, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    naive_utc = dt.datetime(2025, 12, 1, 10, 0, 0, 5)
    assert _plain(aware) == _plain(naive_utc) == "2025-12-01T10:00:00.000005Z"
    assert _plain(Decimal("3.500000000")) == _plain(Decimal("3.5")) == "3.5"
    assert _plain(Decimal("0E-9")) == "0"
    assert _plain(dt.date(2025, 12, 1)) == "2025-12-01"
