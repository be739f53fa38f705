"""Golden end-to-end run: the committed input through the whole pipeline (replay in, files out).

Expected rows per table and expected dead letters are committed under
``expected/`` and compared exactly (dead letters without their failure time).
Regenerate them after an intended change with ``UPDATE_GOLDEN=1 make unit``
and review the diff.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from pipeline.catalog import BY_NAME
from pipeline.main import run
from pipeline.model import TABLES

HERE = Path(__file__).parent
EXPECTED = HERE / "expected"


def _sorted_lines(lines: list[str]) -> list[str]:
    return sorted(line for line in lines if line.strip())


def _dead_letters(folder: Path) -> list[dict[str, Any]]:
    letters = []
    for path in sorted(folder.glob("*.ndjson")):
        for line in path.read_text().splitlines():
            letter = json.loads(line)
            assert letter.pop("failedAt")
            letters.append(letter)
    return sorted(letters, key=lambda d: (d.get("messageId", ""), d["reason"]))


@pytest.fixture(scope="module")
def golden_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("golden")
    run(
        [
            "--replay",
            str(HERE / "input.ndjson"),
            "--sink",
            "files",
            "--output_dir",
            str(out / "rows"),
            "--dead_letter_prefix",
            str(out / "dead_letters"),
        ]
    )
    if os.environ.get("UPDATE_GOLDEN"):
        EXPECTED.mkdir(exist_ok=True)
        for table in TABLES:
            lines = _sorted_lines((out / "rows" / f"{table}.ndjson").read_text().splitlines())
            (EXPECTED / f"{table}.ndjson").write_text("".join(f"{line}\n" for line in lines))
        letters = _dead_letters(out / "dead_letters")
        (EXPECTED / "dead_letters.ndjson").write_text(
            "".join(json.dumps(d, sort_keys=True) + "\n" for d in letters)
        )
    return out


@pytest.mark.parametrize("table", TABLES)
def test_rows_match_golden(golden_run: Path, table: str):
    produced = _sorted_lines((golden_run / "rows" / f"{table}.ndjson").read_text().splitlines())
    expected = _sorted_lines((EXPECTED / f"{table}.ndjson").read_text().splitlines())
    assert produced == expected


def test_dead_letters_match_golden(golden_run: Path):
    expected = [
        json.loads(line) for line in (EXPECTED / "dead_letters.ndjson").read_text().splitlines()
    ]
    assert _dead_letters(golden_run / "dead_letters") == expected
    assert not any("Traceback" in d["detail"] for d in expected)


def test_every_message_is_accounted_for_exactly_once(golden_run: Path):
    """Each input message ends as rows (found by its event id) or as one dead letter."""
    inputs = [json.loads(line) for line in (HERE / "input.ndjson").read_text().splitlines()]
    letters = _dead_letters(golden_run / "dead_letters")
    dead = [d["messageId"] for d in letters]
    assert len(dead) == len(set(dead)), "one dead letter per message"
    event_ids: set[str] = set()
    for table in TABLES:
        for line in (golden_run / "rows" / f"{table}.ndjson").read_text().splitlines():
            event_ids.add(json.loads(line)["event_id"])
    for message in inputs:
        landed = False
        contract = BY_NAME.get(message["attributes"].get("ecom_contract", ""))
        if (
            contract is not None
            and message["attributes"].get("ecom_encoding", "BINARY") == "BINARY"
        ):
            try:
                event = contract.message.FromString(base64.b64decode(message["data"]))
                landed = event.event_id in event_ids  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - undecodable input simply did not land
                landed = False
        elif message["messageId"] == "json/valid_order":
            landed = "evt-json" in event_ids
        elif message["messageId"] == "route/pubsub_schema_attributes":
            landed = "inv-schema" in event_ids
        assert landed != (message["messageId"] in dead), message["messageId"]
    # The original payload survives in every dead letter, byte for byte.
    by_id = {m["messageId"]: m for m in inputs}
    for letter in letters:
        assert letter.get("data", "") == by_id[letter["messageId"]]["data"]
        assert letter.get("attributes", {}) == by_id[letter["messageId"]]["attributes"]
