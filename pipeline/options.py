"""Command-line options of the ingestion pipeline (Beam's PipelineOptions plus ours)."""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions

SINKS = ("bigquery", "duckdb", "files")


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
            "--direct_pubsub_batch",
            type=int,
            default=1000,
            help="on the DirectRunner, messages per Pub/Sub pull (Beam's own reader pulls 10)",
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
            help="streaming_inserts (insert ids deduplicate redeliveries; refused rows are "
            "dead-lettered) or storage_write_api (cheaper, at least once, rows checked "
            "against the schema first); see the README",
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
