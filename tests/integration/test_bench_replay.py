"""``make bench``'s replay measurement: fresh processes, the libraries beside, a baseline checkout.

The figures themselves are the bench's to print; here, that each measurement
runs the pipeline it names on the same input and that a baseline which is not
a checkout of this project is a usage error.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ops import bench

ROOT = Path(__file__).resolve().parents[2]


def test_the_replay_is_measured_with_each_pipeline_on_the_same_input(tmp_path: Path):
    events = 1000
    figures = bench.replay_figures(events, seed=3, baseline=ROOT)
    for measured in (figures, figures["libraries"], figures["baseline"]):
        assert "failed" not in measured, measured.get("failed")
        assert measured["events"] == events
        assert measured["cpu_seconds_per_million"] > 0
        assert measured["startup_cpu_seconds"] > 0
    assert figures["baseline"]["checkout"] == str(ROOT)
    expected = figures["cpu_seconds_per_million"] / figures["baseline"]["cpu_seconds_per_million"]
    assert figures["cpu_vs_baseline"] == round(expected, 2)


def test_a_broken_checkout_is_reported_not_measured(tmp_path: Path):
    (tmp_path / "pipeline").mkdir()  # looks like a checkout, holds no pipeline
    figures = bench.replay_figures(bench.STARTUP_EVENTS + 10, seed=3, baseline=tmp_path)
    assert "has no pipeline of its own" in figures["baseline"]["failed"]
    assert figures["cpu_vs_baseline"] is None


def test_a_baseline_that_is_no_checkout_is_a_usage_error(tmp_path: Path):
    completed = subprocess.run(
        [sys.executable, "-m", "ops.bench", "--skip-replay", "--replay-baseline", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "not a checkout of this project" in completed.stderr
