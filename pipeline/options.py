"""Command-line options of the ingestion pipeline (Beam's PipelineOptions plus ours).

``python -m pipeline.main --help`` lists the pipeline's own options;
``--help-beam`` adds Beam's runner options. :func:`check_usage` refuses option
sets that make no run, naming the option, before any pipeline is built.
"""

from __future__ import annotations

import argparse
from typing import Final

from apache_beam.options.pipeline_options import (
    GoogleCloudOptions,
    PipelineOptions,
    SetupOptions,
    StandardOptions,
    WorkerOptions,
)

SINKS = ("bigquery", "duckdb", "files")
EXIT_STATUSES: Final = """\
exit status:
  0  the run finished (a streaming run: it was started, or stopped cleanly)
  1  a bounded run dead-lettered messages (they are in --dead_letter_prefix)
  2  a usage error: the options make no run (nothing was started)

Beam's runner options (--runner, --project, --region, --temp_location,
--streaming, --max_num_workers, ...) are accepted too: --help-beam lists them.
"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keep the epilog's layout and show every option's default."""


class UsageError(Exception):
    """The options make no run; the message names the option."""


class IngestOptions(PipelineOptions):
    """Where messages come from, where rows and dead letters go."""

    @classmethod
    def _add_argparse_args(cls, parser) -> None:  # type: ignore[no-untyped-def]
        source = parser.add_argument_group("input (one of)")
        source.add_argument(
            "--subscription",
            action="append",
            default=[],
            metavar="[CONTRACT=]projects/P/subscriptions/S",
            help="Pub/Sub subscription to read (repeatable). Prefix with a contract's full "
            "name (ecom.events.v1.OrderEvent=...) to route messages that carry no schema or "
            "contract attribute to that contract.",
        )
        source.add_argument(
            "--replay",
            action="append",
            default=[],
            metavar="GLOB",
            help="newline-delimited JSON messages to read instead (repeatable; local paths or "
            "gs://). Dead-letter files are valid replay input. Runs bounded (batch).",
        )
        source.add_argument(
            "--default_contract",
            default="",
            help="contract for replayed messages that carry no schema or contract attribute",
        )
        sink = parser.add_argument_group("output")
        sink.add_argument(
            "--sink",
            choices=SINKS,
            default="bigquery",
            help="bigquery (production), duckdb (local warehouse) or files (NDJSON per "
            "table, bounded runs only)",
        )
        sink.add_argument("--bq_project", default="", help="BigQuery project of the dataset")
        sink.add_argument(
            "--bq_write_method",
            choices=("streaming_inserts", "storage_write_api"),
            default="streaming_inserts",
            help="streaming_inserts (insertAll; row keys as insert ids deduplicate "
            "redeliveries for about a minute) or storage_write_api (AppendRows on each table's "
            "default stream with the official client, proto rows from the fact contracts: "
            "cheaper, at least once, no Java at launch). Either way refused rows become "
            "dead letters of their message, and an outage past bounded retries dead-letters "
            "the unwritten messages as sink_unavailable; see the README",
        )
        sink.add_argument("--bq_dataset", default="events", help="BigQuery dataset of the tables")
        sink.add_argument("--duckdb_path", default="local/warehouse.duckdb", help="DuckDB file")
        sink.add_argument("--output_dir", default="local/rows", help="folder of the files sink")
        sink.add_argument(
            "--dead_letter_prefix",
            default="local/dead_letters",
            help="folder or gs:// prefix of the dead-letter NDJSON files",
        )
        sink.add_argument(
            "--dead_letter_window_seconds",
            type=int,
            default=60,
            help="dead letters are written in processing-time windows of this length",
        )


def parser() -> argparse.ArgumentParser:
    """Return a parser describing the pipeline's own options (for ``--help``)."""
    parsing = argparse.ArgumentParser(
        prog="python -m pipeline.main",
        description="The ingestion pipeline: read Pub/Sub (streaming) or replay files "
        "(bounded), route, decode, validate and model every message, write fact rows, "
        "dead-letter the rest.",
        epilog=EXIT_STATUSES,
        formatter_class=_HelpFormatter,
    )
    IngestOptions._add_argparse_args(parsing)
    parsing.add_argument("--help-beam", action="store_true", help="list Beam's options too")
    return parsing


def beam_parser() -> argparse.ArgumentParser:
    """Return :func:`parser` with Beam's runner, Google Cloud, worker and setup options."""
    parsing = parser()
    for options in (StandardOptions, GoogleCloudOptions, WorkerOptions, SetupOptions):
        options._add_argparse_args(parsing.add_argument_group(f"Beam's {options.__name__}"))
    return parsing


def check_usage(options: IngestOptions) -> None:
    """Raise UsageError naming the option when ``options`` make no run."""
    from apache_beam.io.filesystems import FileSystems

    from pipeline.catalog import BY_NAME

    subscriptions, replay = options.subscription, options.replay
    if not subscriptions and not replay:
        raise UsageError("give --subscription (streaming from Pub/Sub) or --replay (files)")
    if subscriptions and replay:
        raise UsageError("--subscription and --replay cannot be combined: run them separately")
    if subscriptions and options.sink == "files":
        raise UsageError(
            "--sink files writes bounded runs only; with --subscription use --sink bigquery "
            "or duckdb"
        )
    for spec in subscriptions:
        contract, _, subscription = spec.rpartition("=")
        if "/subscriptions/" not in subscription:
            raise UsageError(
                f"--subscription {spec!r}: expected [CONTRACT=]projects/P/subscriptions/S"
            )
        if contract and contract not in BY_NAME:
            raise UsageError(
                f"--subscription {spec!r}: {contract!r} is not a contract; known: "
                + ", ".join(sorted(BY_NAME))
            )
    if options.default_contract and options.default_contract not in BY_NAME:
        raise UsageError(
            f"--default_contract {options.default_contract!r} is not a contract; known: "
            + ", ".join(sorted(BY_NAME))
        )
    if options.sink == "bigquery" and not options.bq_dataset:
        raise UsageError("--sink bigquery needs --bq_dataset")
    for pattern in replay:
        if not FileSystems.match([pattern])[0].metadata_list:
            raise UsageError(f"--replay {pattern!r} matches no file")
