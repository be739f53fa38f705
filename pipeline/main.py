"""The ingestion pipeline, top to bottom: read, process, write, dead-letter.

Run ``python -m pipeline.main --help`` for the options and exit statuses.
In production Dataflow runs it (``run.sh``); replays run anywhere. A local
streaming run (``make run``) goes through the local-run layer,
``ops/local_pipeline/``, which runs this same graph on the DirectRunner with
its own Pub/Sub reads and acknowledgements; nothing of it is in this package.
"""

from __future__ import annotations

import sys
from typing import Any

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.pvalue import PCollection

from pipeline.deadletter import REASON_NAMES
from pipeline.deadletter_files import WriteDeadLetters
from pipeline.endpoints import beam_storage_without_credentials
from pipeline.options import IngestOptions, UsageError, beam_parser, check_usage, parser
from pipeline.sources import ReadMessages
from pipeline.transforms import ProcessMessages


def write_facts(rows: PCollection[Any], options: IngestOptions) -> Any:
    """Stage 6: write rows to the configured sink; return dead-letter lines of refused rows."""
    if options.sink == "files":
        from pipeline.sinks.files import WriteRowFiles

        return rows | "WriteRowFiles" >> WriteRowFiles(options.output_dir)
    if options.sink == "duckdb":
        from pipeline.sinks.duckdb import WriteToDuckDB

        return rows | "WriteToDuckDB" >> WriteToDuckDB(options.duckdb_path)
    if options.bq_write_method == "storage_write_api":
        from pipeline.sinks.bigquery_storage import WriteWithStorageApi

        return rows | "WriteWithStorageApi" >> WriteWithStorageApi(
            options.bq_project, options.bq_dataset
        )
    from pipeline.sinks.bigquery import WriteWithStreamingInserts

    # The step keeps its label: a running job is updated in place by transform name.
    return rows | "WriteToBigQuery" >> WriteWithStreamingInserts(
        options.bq_project, options.bq_dataset
    )


def build(pipeline: beam.Pipeline, options: IngestOptions) -> None:
    """Add the whole ingestion graph to ``pipeline``."""
    records = pipeline | "ReadMessages" >> ReadMessages(options.subscription, options.replay)
    processed = records | "ProcessMessages" >> ProcessMessages(options.default_contract)
    refused = write_facts(processed.rows, options)
    # One writer per source of dead letters, each in the step that makes them: a Flatten
    # of the two would make the local runner hold a whole burst of them in memory.
    prefix, window = options.dead_letter_prefix, options.dead_letter_window_seconds
    _ = processed.dead_letters | "WriteDeadLetters" >> WriteDeadLetters(prefix, window)
    _ = refused | "WriteRefusedRowDeadLetters" >> WriteDeadLetters(prefix, window)


def pipeline_options(argv: list[str] | None) -> PipelineOptions:
    """Parse ``argv``; reading Pub/Sub makes the pipeline streaming."""
    options = PipelineOptions(argv)
    ingest = options.view_as(IngestOptions)
    if ingest.subscription:
        options.view_as(StandardOptions).streaming = True
    return options


def prepare(argv: list[str] | None) -> beam.Pipeline:
    """Parse ``argv``, check it makes a run, and return the pipeline built from it, not started.

    Raises UsageError (before anything is built) when the options do not make a run.
    """
    beam_storage_without_credentials()  # a named Cloud Storage emulator needs none
    options = pipeline_options(argv)
    check_usage(options.view_as(IngestOptions))
    pipeline = beam.Pipeline(options=options)
    build(pipeline, options.view_as(IngestOptions))
    return pipeline


def run(argv: list[str] | None = None) -> beam.runners.runner.PipelineResult:
    """Build and start the pipeline; return its result (bounded runs are waited for).

    Raises UsageError (before anything is built) when the options do not make a run.
    """
    pipeline = prepare(argv)
    result = pipeline.run()
    if not pipeline.options.view_as(StandardOptions).streaming:
        result.wait_until_finish()
    return result


def dead_lettered(result: Any) -> int:
    """Return how many deliveries a finished run dead-lettered, from its outcome counters.

    A message delivered twice counts twice here; its dead-letter files hold it once.
    """
    reasons = tuple(f".{reason}" for reason in REASON_NAMES.values())
    counters = result.metrics().query(MetricsFilter())["counters"]
    return sum(
        int(counter.committed or counter.attempted or 0)
        for counter in counters
        if counter.key.metric.name.endswith(reasons)
    )


LOCAL_STREAMING_NOTE = (
    "note: on the DirectRunner, Beam's own Pub/Sub reader pulls ten messages at a time and "
    "acknowledges them as it pulls; `python -m ops.local_pipeline` takes the same options and "
    "acknowledges a message only once its rows or its dead letter are written"
)
"""What ``main`` says after starting a Pub/Sub read on the DirectRunner."""


def main(argv: list[str]) -> int:
    """Command line: run the pipeline; return the exit status (see ``--help``)."""
    if {"-h", "--help"} & set(argv):
        parser().print_help()
        return 0
    if "--help-beam" in argv:
        beam_parser().print_help()
        return 0
    try:
        result = run(argv)
    except UsageError as error:
        print(f"python -m pipeline.main: error: {error}", file=sys.stderr)
        return 2
    options = pipeline_options(argv)
    runner = str(options.view_as(StandardOptions).runner or "DirectRunner")
    if not options.view_as(StandardOptions).streaming:
        refused = dead_lettered(result)
        if refused:
            prefix = options.view_as(IngestOptions).dead_letter_prefix
            print(
                f"{refused} deliveries dead-lettered; their records are under {prefix}",
                file=sys.stderr,
            )
            return 1
        return 0
    if "Direct" in runner:
        print(LOCAL_STREAMING_NOTE, file=sys.stderr)
        result.wait_until_finish()  # Dataflow jobs run on; a local one runs in this process
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
