"""A local streaming run: the pipeline's own graph on the DirectRunner, read and acknowledged here.

``run(argv)`` takes ``python -m pipeline.main``'s options (and
``--direct_pubsub_batch``), builds the graph with ``pipeline.main.prepare``,
wraps its writers to acknowledge (:mod:`ops.local_pipeline.wrap`), registers
its subscriptions for the local pulls (:mod:`ops.local_pipeline.pulls`) and
starts it. ``make run``, ``make run WAREHOUSE=bigquery`` and ``make bench``
start their streaming pipelines here; replays need none of it and run
through ``pipeline.main`` itself.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from apache_beam.options.pipeline_options import StandardOptions

from ops.local_pipeline.deliveries import Deliveries
from ops.local_pipeline.pulls import LocalPullOptions, pull_locally
from ops.local_pipeline.wrap import acknowledge_after_writes
from pipeline.main import pipeline_options, prepare
from pipeline.options import IngestOptions, UsageError
from pipeline.options import parser as pipeline_parser

PROG = "python -m ops.local_pipeline"


def run(argv: list[str]) -> Any:
    """Start the pipeline on the DirectRunner, reading Pub/Sub locally; return its result.

    Raises UsageError (nothing started) when the options make no run, read
    no subscription, or name a runner other than the DirectRunner.
    """
    runner = str(pipeline_options(argv).view_as(StandardOptions).runner or "DirectRunner")
    if "direct" not in runner.lower():
        raise UsageError(f"--runner {runner}: a local run runs on the DirectRunner")
    pipeline = prepare(argv)
    options = pipeline.options
    ingest = options.view_as(IngestOptions)
    if not ingest.subscription:
        raise UsageError(
            "a local run reads Pub/Sub (--subscription); replay files with "
            "python -m pipeline.main --replay"
        )
    deliveries = Deliveries()
    acknowledge_after_writes(pipeline, deliveries.run_id)
    subscriptions = [spec.rpartition("=")[2] for spec in ingest.subscription]
    pull_locally(subscriptions, options.view_as(LocalPullOptions).direct_pubsub_batch, deliveries)
    return pipeline.run()


def parser() -> argparse.ArgumentParser:
    """Return a parser describing the local run's options (for ``--help``)."""
    parsing = pipeline_parser()
    parsing.prog = PROG
    parsing.description = (
        "The ingestion pipeline on the DirectRunner, reading Pub/Sub (an emulator's, where "
        "PUBSUB_EMULATOR_HOST names one) in pulls of up to --direct_pubsub_batch messages that "
        "acknowledge nothing: a message is acknowledged once its rows or its dead letter are "
        "written. The options are python -m pipeline.main's."
    )
    parsing.epilog = (
        "exit status:\n"
        "  0  the run stopped cleanly\n"
        "  2  a usage error: the options make no local run (nothing was started)\n"
    )
    LocalPullOptions._add_argparse_args(parsing.add_argument_group("local Pub/Sub reads"))
    return parsing


def main(argv: list[str]) -> int:
    """Command line: run until stopped; return the exit status (see ``--help``)."""
    if {"-h", "--help"} & set(argv):
        parser().print_help()
        return 0
    try:
        result = run(argv)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    result.wait_until_finish()
    return 0
