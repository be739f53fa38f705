"""Every configuration ``run.sh launch`` offers builds its Dataflow graph, offline.

For each combination of write method, streaming mode and packaging, the
options are the ones ``run.sh launch`` would pass (``DRY_RUN=1`` prints the
command; ``ops.infra pipeline-args`` runs inside it), and the graph is built
exactly as ``pipeline.main.run`` builds it for the DataflowRunner, then turned
into its runner API proto, which is what Dataflow is sent. Nothing is
submitted (``run()`` is never called), so a failure while the job is built (a
connector that cannot take a column type, a transform that cannot be
pickled) fails here instead of at launch.

One thing in construction reaches Google: Beam's options validation asks
Cloud Storage whether the temp and staging buckets have a soft-delete policy
(a warning only; about 4 minutes of retries without network). That check is
stubbed out, and every other connection attempt fails the test.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import GoogleCloudOptions, StandardOptions

from pipeline.main import build, pipeline_options
from pipeline.options import IngestOptions

ROOT = Path(__file__).resolve().parents[2]
WRITE_METHODS = ("streaming_inserts", "storage_write_api")
STREAMING_MODES = ("exactly_once", "at_least_once")
PACKAGINGS = ("container", "setup_file")


def launch_arguments(write_method: str, streaming_mode: str, packaging: str) -> list[str]:
    """Return the arguments ``run.sh launch`` gives ``python -m pipeline.main``."""
    printed = subprocess.run(
        ["bash", str(ROOT / "run.sh"), "launch"],
        env={**os.environ, "PROJECT": "demo-project", "REGION": "europe-west1", "DRY_RUN": "1",
             "PY": sys.executable, "TAG": "t1", "BQ_WRITE_METHOD": write_method,
             "STREAMING_MODE": streaming_mode, "PACKAGING": packaging},
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout  # fmt: skip
    command = shlex.split(printed.strip().splitlines()[-1])
    assert command[1:3] == ["-m", "pipeline.main"], command
    return command[3:]


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Stub Beam's soft-delete check of the buckets; record (and refuse) any other connection."""
    return go_offline(monkeypatch)


def go_offline(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Stub Beam's soft-delete check; return the list any other connection attempt is added to."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args[1:] or args)
        raise OSError("this test makes no network calls")

    monkeypatch.setattr(GoogleCloudOptions, "_warn_if_soft_delete_policy_enabled", lambda *_: None)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.mark.parametrize("packaging", PACKAGINGS)
@pytest.mark.parametrize("streaming_mode", STREAMING_MODES)
@pytest.mark.parametrize("write_method", WRITE_METHODS)
def test_the_launch_configuration_builds_its_dataflow_graph(
    write_method: str, streaming_mode: str, packaging: str, offline: list[Any]
):
    args = launch_arguments(write_method, streaming_mode, packaging)
    options = pipeline_options(args)
    assert options.view_as(StandardOptions).runner == "DataflowRunner"
    assert options.view_as(IngestOptions).bq_write_method == write_method
    pipeline = beam.Pipeline(options=options)
    build(pipeline, options.view_as(IngestOptions))
    proto = pipeline.to_runner_api()
    labels = {transform.unique_name for transform in proto.components.transforms.values()}
    assert any(label.startswith("ReadMessages") for label in labels)
    assert any(label.startswith("WriteDeadLetters") for label in labels)
    assert offline == []  # nothing tried to reach a network
