"""``make run``: the whole system on one machine, no cloud account.

Google's Pub/Sub emulator, synthetic traffic published with the project's
publisher, the streaming pipeline on Beam's DirectRunner, DuckDB as the
warehouse, then a reconciliation, a summary and the seed's five queries.
Without the emulator it says so in one line and replays the same messages
from a file instead (bounded, same pipeline and sinks).

``--warehouse bigquery`` (``make run WAREHOUSE=bigquery``) is the production
path on local services instead (:mod:`ops.local_cloud`): the BigQuery and
Cloud Storage emulators beside Pub/Sub's, ``ops.infra apply`` against them,
``run.sh launch``'s options; then the seed's queries answered by the BigQuery
emulator, unchanged, beside DuckDB's answers for the same messages.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecom_contracts import Publisher
from ops.emulator_topics import create_topics, topic_of
from ops.emulators import EmulatorUnavailableError, PubsubEmulator
from ops.report import (
    BigQueryReader,
    DeadLetterScan,
    DuckDBReader,
    WarehouseReader,
    format_table,
    ingestion_times,
    landed_events,
    percentiles,
    row_counts,
    run_queries,
)
from ops.traffic import TrafficGenerator, TrafficMessage
from pipeline.catalog import CONTRACTS
from pipeline.record import PubsubRecord

PROJECT = "ecom-local"
FAILED_STATES = frozenset(
    {"FAILED", "CANCELLED", "PipelineState.FAILED", "PipelineState.CANCELLED"}
)
GOOD_KINDS = frozenset({"order", "inventory", "user_activity"})


@dataclass
class Expectation:
    """What the warehouse and the dead-letter folder must hold, from the generator alone."""

    published: int
    events: set[str]
    """Distinct event ids of the good messages."""
    dead_letters: int
    """Messages that must each end as one dead-letter record (bad ones, and their copies)."""
    duplicates: int
    """Messages the generator published again for a good event: they add no row."""


@dataclass
class Progress:
    """State shared between the publisher thread and the monitor."""

    published: int = 0
    failed: list[str] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)
    done: bool = False
    first_publish: float = 0.0


def expectation(messages: list[TrafficMessage]) -> Expectation:
    """Derive from the generated messages what must land, independently of the pipeline."""
    events = set()
    dead_letters = duplicates = 0
    for message in messages:
        if message.event is None:
            dead_letters += 1  # malformed, invalid, unknown, or a copy of one of those
        elif message.kind == "duplicate":
            duplicates += 1
        else:
            events.add(message.event.event_id)  # type: ignore[attr-defined]
    return Expectation(len(messages), events, dead_letters, duplicates)


def publish_at_rate(
    emulator_topics: dict[str, Publisher],
    messages: list[TrafficMessage],
    rate: float,
    progress: Progress,
) -> None:
    """Publish ``messages`` at about ``rate`` per second with the project's publisher."""
    tick = 0.05
    per_tick = max(1, int(rate * tick))
    progress.first_publish = time.time()
    start = time.monotonic()
    for offset in range(0, len(messages), per_tick):
        chunk = messages[offset : offset + per_tick]
        by_topic: dict[str, list[TrafficMessage]] = {}
        for message in chunk:
            by_topic.setdefault(topic_of(message), []).append(message)
        now = time.time()
        for topic, batch in by_topic.items():
            results = emulator_topics[topic].publish_raw([(m.data, m.attributes) for m in batch])
            for message, result in zip(batch, results, strict=True):
                if result.error:
                    progress.failed.append(result.error)
                    continue
                progress.published += 1
                if message.event is not None:
                    progress.sent_at.setdefault(message.event.event_id, now)  # type: ignore[attr-defined]
        delay = start + (offset // per_tick + 1) * tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    progress.done = True


def _say(text: str) -> None:
    print(text, flush=True)


def parser() -> argparse.ArgumentParser:
    """Return the command's argument parser."""
    parsing = argparse.ArgumentParser(
        prog="make run",
        description=__doc__.split("\n")[0],
        epilog="exit status: 0 everything reconciled, 1 it did not (or timed out), 2 usage error",
    )
    parsing.add_argument("--events", type=int, default=5000, help="messages to publish")
    parsing.add_argument("--rate", type=float, default=1000, help="messages per second")
    parsing.add_argument("--seed", type=int, default=7, help="seed of the synthetic traffic")
    parsing.add_argument("--bad-share", type=float, default=0.05, help="share of bad messages")
    parsing.add_argument("--json-share", type=float, default=0.05, help="share sent as JSON")
    parsing.add_argument("--timeout", type=float, default=300, help="seconds to wait for the drain")
    parsing.add_argument("--workdir", type=Path, default=Path("local"), help="output folder")
    parsing.add_argument(
        "--replay", action="store_true", help="skip the emulator: replay the messages from a file"
    )
    parsing.add_argument(
        "--warehouse",
        choices=("duckdb", "bigquery"),
        default="duckdb",
        help="duckdb: the embedded local warehouse; bigquery: the production path on the "
        "BigQuery, Cloud Storage and Pub/Sub emulators (ops.infra apply, run.sh launch's "
        "options), its queries compared with DuckDB's",
    )
    parsing.add_argument(
        "--outage",
        action="append",
        choices=("bigquery", "storage"),
        default=[],
        help="with --warehouse bigquery, a drill (repeatable): stop this emulator once 30%% "
        "of the messages are published, start it again after --outage-seconds, then replay "
        "the dead letters and reconcile exactly",
    )
    parsing.add_argument(
        "--outage-seconds", type=float, default=15.0, help="how long a drill's outage lasts"
    )
    parsing.add_argument(
        "--bq-write-method",
        choices=("streaming_inserts", "storage_write_api"),
        default="streaming_inserts",
        help="with --warehouse bigquery: run.sh's BQ_WRITE_METHOD",
    )
    return parsing


@dataclass
class Workdir:
    """Where a local run writes everything."""

    root: Path

    @property
    def warehouse(self) -> Path:
        """The DuckDB file."""
        return self.root / "warehouse.duckdb"

    @property
    def dead_letters(self) -> Path:
        """The dead-letter folder."""
        return self.root / "dead_letters"

    @property
    def published(self) -> Path:
        """Every generated message, as replay input."""
        return self.root / "published.ndjson"

    @property
    def summary(self) -> Path:
        """The run's figures and query results."""
        return self.root / "summary.json"

    @property
    def cloud(self) -> Path:
        """The emulators' data and logs of a production-shaped run."""
        return self.root / "cloud"

    def reset(self) -> None:
        """Remove what an earlier run left, so this run's counts are its own."""
        for stale in (
            self.warehouse,
            Path(f"{self.warehouse}.wal"),
            self.dead_letters,
            self.summary,
            self.cloud,
        ):
            if stale.is_dir():
                shutil.rmtree(stale)
            elif stale.exists():
                stale.unlink()
        self.root.mkdir(parents=True, exist_ok=True)


def generate(args: argparse.Namespace, workdir: Workdir) -> list[TrafficMessage]:
    """Step 1: the seeded synthetic traffic, also written as replay input."""
    generator = TrafficGenerator(
        seed=args.seed, bad_share=args.bad_share, json_share=args.json_share
    )
    messages = list(generator.messages(args.events))
    workdir.published.write_text(
        "".join(
            PubsubRecord(m.data, m.attributes, f"local-{i}", "").to_json() + "\n"
            for i, m in enumerate(messages)
        )
    )
    _say(
        f"generated {len(messages):,} messages (seed {args.seed}): "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(Counter(m.kind for m in messages).items()))
    )
    return messages


def start_emulator(args: argparse.Namespace, workdir: Workdir) -> PubsubEmulator | None:
    """Step 2: the Pub/Sub emulator, or None (replay) when asked or when it cannot run here."""
    if args.replay:
        return None
    try:
        emulator = PubsubEmulator(log_path=workdir.root / "emulator.log")
        emulator.start()
    except EmulatorUnavailableError as error:
        _say(
            f"Pub/Sub emulator unavailable ({error}); replaying {workdir.published} instead. "
            "For the streaming run: install the Google Cloud CLI, then "
            "`gcloud components install pubsub-emulator` (it needs Java)"
        )
        return None
    return emulator


def start_pipeline(
    args: argparse.Namespace,
    workdir: Workdir,
    emulator: PubsubEmulator | None,
    messages: list[TrafficMessage],
    progress: Progress,
) -> tuple[Any, Any]:
    """Step 3: the pipeline, and the publisher when streaming; returns (streaming, replayed).

    Streaming runs through the local-run layer (:mod:`ops.local_pipeline`),
    which acknowledges a message once its rows or dead letter are written.
    """
    from ops import local_pipeline
    from pipeline.main import run

    sink_args = [
        "--sink", "duckdb",
        "--duckdb_path", str(workdir.warehouse),
        "--dead_letter_prefix", str(workdir.dead_letters),
        "--dead_letter_window_seconds", "2",
    ]  # fmt: skip
    if emulator is None:
        _say("pipeline: replay (bounded) on the DirectRunner")
        progress.first_publish = time.time()
        progress.published = len(messages)
        replayed = run(["--replay", str(workdir.published), *sink_args])
        progress.done = True
        return None, replayed
    topics = create_topics(PROJECT)
    publishers = {
        contract.topic_id: Publisher(topics.topic(contract.topic_id), client=topics.publisher)
        for contract in CONTRACTS
    }
    _say(f"emulator on {emulator.host}: a topic and a subscription per family ({len(publishers)})")
    streaming = local_pipeline.run([*topics.subscription_arguments(), *sink_args])
    _say(f"pipeline: streaming on the DirectRunner; publishing at {args.rate:,.0f}/s")
    threading.Thread(
        target=publish_at_rate, args=(publishers, messages, args.rate, progress), daemon=True
    ).start()
    return streaming, None


@dataclass
class Landing:
    """Where a run's messages end: the warehouse to read, the dead-letter prefix."""

    open_reader: Callable[[], contextlib.AbstractContextManager[WarehouseReader]]
    dead_letters: str
    view_suffix: str = ""
    """Rows are counted in the tables (DuckDB: unique keys) or the ``_dedup`` views."""


def duckdb_landing(workdir: Workdir) -> Landing:
    """Return the local warehouse file and dead-letter folder as a landing."""

    @contextlib.contextmanager
    def reader() -> Iterator[WarehouseReader]:
        import duckdb

        with duckdb.connect(str(workdir.warehouse)) as connection:
            yield DuckDBReader(connection)

    return Landing(reader, str(workdir.dead_letters))


def bigquery_landing(client: Any, dead_letters: str) -> Landing:
    """Return a BigQuery project (the emulator's) and a ``gs://`` dead-letter prefix."""

    @contextlib.contextmanager
    def reader() -> Iterator[WarehouseReader]:
        yield BigQueryReader(client)

    return Landing(reader, dead_letters, view_suffix="_dedup")


def _read(landing: Landing, scan: DeadLetterScan) -> tuple[set[str] | None, str]:
    """Return the landed events (None when unreadable) and what could not be read, if anything.

    During an outage drill the warehouse or the bucket does not answer; the
    monitor says so and reads again on its next turn.
    """
    from apache_beam.io.filesystem import BeamIOError
    from google.api_core.exceptions import GoogleAPIError
    from requests.exceptions import RequestException

    unreadable = (BeamIOError, GoogleAPIError, RequestException, OSError)
    problem = ""
    landed: set[str] | None = None
    try:
        with landing.open_reader() as reader:
            landed = landed_events(reader)
    except unreadable as error:
        problem = f"warehouse unreadable ({type(error).__name__})"
    try:
        scan.scan(landing.dead_letters)
    except unreadable as error:
        problem = f"{problem}; " if problem else ""
        problem += f"dead letters unreadable ({type(error).__name__})"
    return landed, problem


def wait_for_accounting(
    args: argparse.Namespace,
    landing: Landing,
    expected: Expectation,
    progress: Progress,
    pipeline: Any = None,
    settled: Callable[[], bool] = lambda: True,
    quiet_seconds: float = 0.0,
) -> tuple[DeadLetterScan, bool]:
    """Step 4: show progress until every message is in the warehouse or a dead letter.

    Stops early, saying so, when the streaming ``pipeline`` (its result) has
    failed. With ``settled`` and ``quiet_seconds`` (an outage drill), it also
    waits for the drill to end and the counts to stay still that long.
    """
    scan = DeadLetterScan()
    started = time.time()
    deadline = time.monotonic() + args.timeout
    interactive = sys.stdout.isatty()
    last_line = 0.0
    target = len(expected.events) + expected.dead_letters
    landed: set[str] = set()
    counts, changed = (-1, -1), time.monotonic()
    while True:
        read, problem = _read(landing, scan)
        landed = landed if read is None else read
        accounted = len(landed) + len(scan.by_message)
        now = time.monotonic()
        if (len(landed), len(scan.by_message)) != counts:
            counts, changed = (len(landed), len(scan.by_message)), now
        if interactive or now - last_line > 5 or accounted >= target or problem:
            line = (
                f"published {progress.published:,}/{expected.published:,} | events in warehouse "
                f"{len(landed):,} | dead letters {len(scan.by_message):,} | accounted "
                f"{accounted:,}/{target:,} | {time.time() - started:.0f}s"
                + (f" | {problem}" if problem else "")
            )
            print(f"\r{line}" if interactive else line, end="" if interactive else "\n", flush=True)
            last_line = now
        done = progress.done and accounted >= target and not problem
        if done and settled() and now - changed >= quiet_seconds:
            if interactive:
                print()
            return scan, True
        if pipeline is not None and str(pipeline.state) in FAILED_STATES:
            if interactive:
                print()
            _say(f"the pipeline stopped ({pipeline.state}): {accounted:,} of {target:,} accounted")
            return scan, False
        if now > deadline:
            if interactive:
                print()
            _say(f"timed out after {args.timeout:.0f}s: {accounted:,} of {target:,} accounted")
            return scan, False
        time.sleep(0.5)


def summarize(
    workdir: Workdir,
    expected: Expectation,
    progress: Progress,
    scan: DeadLetterScan,
    finished: float,
    mode: str,
    metrics: dict[str, int],
    landing: Landing | None = None,
) -> tuple[dict[str, Any], bool]:
    """Step 5: count what landed, reconcile three independent counts, run the seed's queries.

    Published (counted by the publisher) must equal the events in the
    warehouse (counted in the warehouse) plus the dead letters (counted in the
    files) plus the duplicates the generator published (counted by the
    generator), and each must be what the generator predicts.
    """
    landing = landing or duckdb_landing(workdir)
    with landing.open_reader() as reader:
        counts = row_counts(reader, landing.view_suffix)
        landed = landed_events(reader)
        stored = ingestion_times(reader)
        queries = run_queries(reader)
    latencies = [stored[e] - sent for e, sent in progress.sent_at.items() if e in stored]
    elapsed = max(finished - progress.first_publish, 1e-9)
    summary: dict[str, Any] = {
        "mode": mode,
        "published": progress.published,
        "publish_failures": len(progress.failed),
        "events_in_warehouse": len(landed),
        "dead_letters": len(scan.by_message),
        "duplicates_published": expected.duplicates,
        "rows_per_table": counts,
        "dead_letters_by_reason": scan.by_reason(),
        "seconds": round(finished - progress.first_publish, 2),
        "events_per_s": round(progress.published / elapsed),
        "event_to_row_latency_s": percentiles(latencies) if latencies else None,
        "pipeline_counters": metrics,
        "queries": queries,
    }
    reconciled = (
        summary["published"]
        == summary["events_in_warehouse"] + summary["dead_letters"] + expected.duplicates
        and landed == expected.events
        and len(scan.by_message) == expected.dead_letters
        and summary["published"] == expected.published
    )
    summary["reconciled"] = reconciled
    workdir.summary.write_text(json.dumps(summary, indent=2) + "\n")
    return summary, reconciled


def main(argv: list[str] | None = None) -> int:
    """Run the local system end to end; return 0 when everything reconciles."""
    parsing = parser()
    args = parsing.parse_args(argv)
    if args.outage and args.warehouse != "bigquery":
        parsing.error("--outage is a drill of the production-shaped run: add --warehouse bigquery")
    workdir = Workdir(args.workdir)
    workdir.reset()
    messages = generate(args, workdir)
    expected = expectation(messages)
    if args.warehouse == "bigquery":
        from ops.local_cloud import run_production_shaped

        return run_production_shaped(args, workdir, messages, expected)

    import duckdb

    from pipeline.warehouse import create_tables

    with duckdb.connect(str(workdir.warehouse)) as connection:
        create_tables(connection)
    emulator = start_emulator(args, workdir)
    progress = Progress()
    streaming: Any = None
    try:
        streaming, replayed = start_pipeline(args, workdir, emulator, messages, progress)
        landing = duckdb_landing(workdir)
        scan, complete = wait_for_accounting(args, landing, expected, progress, streaming)
        if not complete:
            return 1
        finished = time.time()
        # The streaming DirectRunner keeps only the first bundle's Beam metrics, so
        # counters are shown for bounded (replay) runs, whose runner keeps them all.
        metrics = _metrics(replayed) if replayed is not None else {}
    finally:
        if streaming is not None:
            streaming.cancel()
        if emulator is not None:
            emulator.stop()
    mode = "replay" if emulator is None else "streaming"
    summary, reconciled = summarize(workdir, expected, progress, scan, finished, mode, metrics)
    print_summary(summary, reconciled, workdir.summary)
    return 0 if reconciled else 1


def _metrics(result: Any) -> dict[str, int]:
    """Return the pipeline's Beam counters (and the event-time lag distribution)."""
    found: dict[str, int] = {}
    query = result.metrics().query()
    for counter in query["counters"]:
        name = counter.key.metric.name
        value = max(counter.committed or 0, counter.attempted or 0)
        found[name] = found.get(name, 0) + int(value)
    for distribution in query["distributions"]:
        value = distribution.attempted or distribution.committed
        if value is not None and value.count:
            found[f"{distribution.key.metric.name}.mean"] = int(value.mean)
    return dict(sorted(found.items()))


QUERIES_ON_DUCKDB = "sql/queries/*.sql, BigQuery SQL run on DuckDB via sqlglot"


def print_summary(
    summary: dict[str, Any], reconciled: bool, path: Path, queries_on: str = QUERIES_ON_DUCKDB
) -> None:
    """Print the summary, then each of the seed's queries (and how DuckDB's answer compares)."""
    _say("\n== summary ==")
    mark = "reconciled" if reconciled else "DOES NOT RECONCILE"
    _say(
        f"messages published      {summary['published']:,} = {summary['events_in_warehouse']:,} "
        f"events in the warehouse + {summary['dead_letters']:,} dead letters + "
        f"{summary['duplicates_published']:,} duplicates of landed events ({mark})"
    )
    _say(
        "rows per table          "
        + ", ".join(f"{t} {n:,}" for t, n in summary["rows_per_table"].items())
    )
    _say(
        "dead letters by reason  "
        + (", ".join(f"{r} {n:,}" for r, n in summary["dead_letters_by_reason"].items()) or "none")
    )
    _say(
        f"throughput              {summary['events_per_s']:,} messages/s "
        f"({summary['mode']}, {summary['seconds']}s from first publish to last row)"
    )
    latency = summary["event_to_row_latency_s"]
    if latency:
        _say(f"publish-to-row latency  p50 {latency['p50']}s, p99 {latency['p99']}s")
    if summary["pipeline_counters"]:
        _say(
            "pipeline counters       "
            + ", ".join(f"{k} {v:,}" for k, v in summary["pipeline_counters"].items())
        )
    else:
        _say(
            "pipeline counters       not shown: the streaming DirectRunner keeps only its first "
            "bundle's Beam metrics (rows and dead letters above are counted from the outputs)"
        )
    _say(f"\n== the seed's queries ({queries_on}) ==")
    compared = summary.get("duckdb_comparison")
    for name, result in summary["queries"].items():
        _say(f"\n{name}")
        _say(format_table(result["columns"], result["rows"]))
        if compared is not None:
            difference = compared.get(name)
            rows = len(result["rows"])
            _say(
                f"  DuckDB: DIFFERS: {difference}"
                if difference
                else f"  DuckDB: the same {rows} rows"
            )
    _say(f"\nfull results: {path}")


if __name__ == "__main__":
    sys.exit(main())
