"""``python -m pipeline.main``: every option in --help, usage errors before a run, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pipeline.main
from pipeline.main import LOCAL_STREAMING_NOTE, main
from pipeline.options import parser

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "input.ndjson"


def test_help_lists_every_option_of_the_pipeline_and_the_exit_statuses(
    capsys: pytest.CaptureFixture[str],
):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    options = [
        option
        for action in parser()._actions
        for option in action.option_strings
        if option.startswith("--")
    ]
    assert len(options) >= 13
    for option in options:
        assert option in out, option
    assert "2  a usage error" in out
    assert "--help-beam" in out


def test_help_beam_adds_the_runner_options(capsys: pytest.CaptureFixture[str]):
    assert main(["--help-beam"]) == 0
    out = capsys.readouterr().out
    for option in ("--runner", "--project", "--region", "--temp_location", "--max_num_workers"):
        assert option in out, option


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give --subscription (streaming from Pub/Sub) or --replay (files)"),
        (
            ["--replay", str(GOLDEN), "--subscription", "projects/p/subscriptions/s"],
            "--subscription and --replay cannot be combined",
        ),
        (
            ["--subscription", "projects/p/subscriptions/s", "--sink", "files"],
            "--sink files writes bounded runs only",
        ),
        (["--replay", "/nonexistent/*.ndjson"], "--replay '/nonexistent/*.ndjson' matches no file"),
        (["--subscription", "orders"], "--subscription 'orders': expected [CONTRACT=]projects/"),
        (
            ["--subscription", "Order=projects/p/subscriptions/s"],
            "'Order' is not a contract; known: ecom.events.v1.InventoryEvent",
        ),
        (
            ["--replay", str(GOLDEN), "--default_contract", "orders"],
            "--default_contract 'orders' is not a contract",
        ),
    ],
    ids=["no-source", "two-sources", "files-on-stream", "empty-glob", "bad-subscription",
         "unknown-contract", "unknown-default-contract"],
)  # fmt: skip
def test_usage_errors_are_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m pipeline.main: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1


def _replay(source: Path, tmp_path: Path) -> int:
    return main(
        ["--replay", str(source), "--sink", "files", "--output_dir", str(tmp_path / "rows"),
         "--dead_letter_prefix", str(tmp_path / "dead_letters")]
    )  # fmt: skip


def test_a_bounded_run_exits_1_when_it_dead_lettered_and_0_when_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert _replay(GOLDEN, tmp_path / "all") == 1
    assert "deliveries dead-lettered; their records are under" in capsys.readouterr().err
    letters = {
        json.loads(line)["messageId"]
        for path in (tmp_path / "all" / "dead_letters").glob("*.ndjson")
        for line in path.read_text().splitlines()
    }
    good = [
        line
        for line in GOLDEN.read_text().splitlines()
        if json.loads(line).get("messageId") not in letters
    ]
    clean = tmp_path / "good.ndjson"
    clean.write_text("\n".join(good) + "\n")
    assert _replay(clean, tmp_path / "good") == 0


class _Started:
    """A streaming run's result that finishes at once."""

    def wait_until_finish(self) -> None:
        """Return: the run is over."""


def test_the_command_says_where_a_local_run_acknowledges_after_writing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setattr(pipeline.main, "run", lambda argv: _Started())
    argv = ["--subscription", "projects/ecom-direct-read/subscriptions/s"]
    assert pipeline.main.main([*argv, "--runner", "DirectRunner"]) == 0
    assert capsys.readouterr().err.strip() == LOCAL_STREAMING_NOTE
    assert pipeline.main.main([*argv, "--runner", "DataflowRunner"]) == 0
    assert capsys.readouterr().err == ""
