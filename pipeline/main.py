"""The ingestion pipeline, top to bottom: read, process, write, dead-letter.

Run ``python -m pipeline.main --help`` for the options. Locally the
DirectRunner runs it (``make run``); in production Dataflow does (``run.sh``).
"""

from __future__ import annotations

import sys
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.pvalue import PCollection

from pipeline.deadletter_files import WriteDeadLetters
from pipeline.options import IngestOptions
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
    from pipeline.sinks.bigquery import WriteToBigQuery

    return rows | "WriteToBigQuery" >> WriteToBigQuery(options.bq_project, options.bq_dataset)


def build(pipeline: beam.Pipeline, options: IngestOptions) -> None:
    """Add the whole ingestion graph to ``pipeline``."""
    records = pipeline | "ReadMessages" >> ReadMessages(options.subscription, options.replay)
    processed = records | "ProcessMessages" >> ProcessMessages(options.default_contract)
    refused = write_facts(processed.rows, options)
    _ = (
        (processed.dead_letters, refused)
        | "AllDeadLetters" >> beam.Flatten()
        | "WriteDeadLetters"
        >> WriteDeadLetters(options.dead_letter_prefix, options.dead_letter_window_seconds)
    )


def pipeline_options(argv: list[str] | None) -> PipelineOptions:
    """Parse ``argv``; reading Pub/Sub makes the pipeline streaming."""
    options = PipelineOptions(argv)
    ingest = options.view_as(IngestOptions)
    if ingest.subscription:
        options.view_as(StandardOptions).streaming = True
    return options


def run(argv: list[str] | None = None) -> beam.runners.runner.PipelineResult:
    """Build and start the pipeline; return its result (bounded runs are waited for)."""
    options = pipeline_options(argv)
    ingest = options.view_as(IngestOptions)
    runner = str(options.view_as(StandardOptions).runner or "DirectRunner")
    if ingest.subscription and "Direct" in runner:
        from pipeline.direct_pubsub import enlarge_pulls

        enlarge_pulls(ingest.direct_pubsub_batch)
    pipeline = beam.Pipeline(options=options)
    build(pipeline, options.view_as(IngestOptions))
    result = pipeline.run()
    if not options.view_as(StandardOptions).streaming:
        result.wait_until_finish()
    return result


def main(argv: list[str]) -> None:
    """Command line: run the pipeline; a local streaming run goes on until it is stopped."""
    result = run(argv)
    options = pipeline_options(argv)
    runner = str(options.view_as(StandardOptions).runner or "DirectRunner")
    if options.view_as(StandardOptions).streaming and "Direct" in runner:
        result.wait_until_finish()  # Dataflow jobs run on; a local one runs in this process


if __name__ == "__main__":
    main(sys.argv[1:])
