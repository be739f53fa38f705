"""The production-shaped local run: the production path, on local services, end to end.

``make run WAREHOUSE=bigquery`` starts Google's Pub/Sub emulator, the
BigQuery emulator (``local-bigquery``) and the Cloud Storage emulator,
applies the infrastructure with ``python -m ops.infra apply`` against them
(what no emulator answers is skipped, said step by step), and runs the
pipeline with exactly the options ``./run.sh launch`` passes to Dataflow
(read from ``DRY_RUN=1 ./run.sh launch``), the runner alone replaced by
the DirectRunner: Pub/Sub in, BigQuery out, dead letters in ``gs://``. The
pipeline runs through the local-run layer (:mod:`ops.local_pipeline`): the
graph Dataflow would run, with local Pub/Sub reads and acknowledgements.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ops.emulators import BigQueryEmulator, EmulatorProcess, PubsubEmulator, StorageEmulator

ROOT: Final = Path(__file__).resolve().parents[1]
PROJECT: Final = "ecom-local"
REGION: Final = "europe-west1"
LOCAL_RUNNER: Final = "DirectRunner"


class LaunchError(RuntimeError):
    """``run.sh launch`` or ``ops.infra apply`` did not give what the local run needs."""


@dataclass
class LocalCloud:
    """The three emulators of one run, keeping their data and logs under ``root``."""

    root: Path
    project: str = PROJECT
    region: str = REGION
    pubsub: PubsubEmulator = field(init=False)
    bigquery: BigQueryEmulator = field(init=False)
    storage: StorageEmulator = field(init=False)

    def __post_init__(self) -> None:
        self.pubsub = PubsubEmulator(log_path=self.root / "pubsub-emulator.log")
        self.bigquery = BigQueryEmulator(
            self.root / "bigquery", self.project, log_path=self.root / "bigquery-emulator.log"
        )
        self.storage = StorageEmulator(
            self.root / "storage", log_path=self.root / "storage-emulator.log"
        )

    @property
    def emulators(self) -> list[EmulatorProcess]:
        """Pub/Sub, BigQuery, Cloud Storage."""
        return [self.pubsub, self.bigquery, self.storage]

    def start(self) -> None:
        """Start the three emulators (each named in ``os.environ`` while it runs)."""
        started: list[EmulatorProcess] = []
        try:
            for emulator in self.emulators:
                emulator.start()
                started.append(emulator)
        except BaseException:
            for emulator in started:
                emulator.stop()
            raise

    def stop(self) -> None:
        """Stop the three emulators."""
        for emulator in self.emulators:
            emulator.stop()

    def infra_arguments(self) -> list[str]:
        """Return the options of ``python -m ops.infra`` for this project."""
        return ["--project", self.project, "--region", self.region]

    def apply_infrastructure(self, say: Callable[[str], None]) -> list[str]:
        """Run ``python -m ops.infra apply`` against the emulators; return its output lines.

        Its whole output goes to ``infra.log``; ``say`` gets what was skipped, by
        service, and the closing count. Raises LaunchError when it fails.
        """
        done = subprocess.run(
            [sys.executable, "-m", "ops.infra", "apply", *self.infra_arguments()],
            capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), check=False,
        )  # fmt: skip
        (self.root / "infra.log").write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise LaunchError(
                f"python -m ops.infra apply failed ({done.returncode}): "
                + " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            )
        lines = done.stdout.splitlines()
        skipped: dict[str, int] = {}
        for line in lines:
            if ": skipped (" in line:
                reason = line.rsplit(": skipped (", 1)[1].rstrip(")")
                skipped[reason] = skipped.get(reason, 0) + 1
        for reason, count in skipped.items():
            say(f"  skipped {count} step(s): {reason}")
        say(f"  {lines[-1] if lines else 'no output'} (every step: {self.root / 'infra.log'})")
        return lines

    def launch_arguments(self, write_method: str) -> list[str]:
        """Return the pipeline options ``./run.sh launch`` passes, the runner made local.

        Read from ``DRY_RUN=1 ./run.sh launch`` itself, so the two cannot drift.
        Raises LaunchError when run.sh fails or prints no pipeline command.
        """
        environment = {
            **os.environ, "DRY_RUN": "1", "PROJECT": self.project, "REGION": self.region,
            "BQ_WRITE_METHOD": write_method, "PY": sys.executable,
        }  # fmt: skip
        done = subprocess.run(
            ["./run.sh", "launch"], capture_output=True, text=True, cwd=ROOT,
            env=environment, check=False,
        )  # fmt: skip
        command = next(
            (shlex.split(line) for line in done.stdout.splitlines() if " pipeline.main " in line),
            None,
        )
        if done.returncode != 0 or command is None:
            raise LaunchError(f"DRY_RUN=1 ./run.sh launch gave no pipeline command: {done.stderr}")
        arguments = command[command.index("pipeline.main") + 1 :]
        runner = arguments.index("--runner")
        arguments[runner + 1] = LOCAL_RUNNER
        return arguments

    def bigquery_client(self) -> Any:
        """Return a BigQuery client of the project, on the emulator."""
        from pipeline.endpoints import bigquery_client

        return bigquery_client(self.project)


def _say(text: str) -> None:
    print(text, flush=True)


def duckdb_answers(workdir: Any) -> dict[str, dict[str, Any]]:
    """Replay the run's published messages into a fresh DuckDB file; return its query answers.

    The same messages, the same pipeline code, the embedded warehouse: what
    the BigQuery emulator's answers are compared with.
    """
    import duckdb

    from ops.report import run_queries
    from pipeline.main import run
    from pipeline.warehouse import create_tables

    with duckdb.connect(str(workdir.warehouse)) as connection:
        create_tables(connection)
    run([
        "--replay", str(workdir.published), "--sink", "duckdb",
        "--duckdb_path", str(workdir.warehouse),
        "--dead_letter_prefix", str(workdir.dead_letters),
    ])  # fmt: skip
    with duckdb.connect(str(workdir.warehouse)) as connection:
        return run_queries(connection)


SERVICES: Final = ("bigquery", "storage")
"""What an outage drill can take away (``--outage``)."""


@dataclass
class Outage:
    """An outage drill: ``services`` stopped once a share of the messages is published."""

    services: tuple[str, ...]
    seconds: float
    after_share: float = 0.3
    stopped_at: int = -1
    """Messages published when the services were stopped (-1: not yet)."""
    ended: bool = False

    def run(self, cloud: LocalCloud, progress: Any, total: int) -> None:
        """Wait for the moment, stop the services, wait, start them again (a thread's target)."""
        import time

        while progress.published < total * self.after_share and not progress.done:
            time.sleep(0.05)
        emulators = [getattr(cloud, service) for service in self.services]
        self.stopped_at = progress.published
        for emulator in emulators:
            emulator.halt()
        _say(
            f"outage drill: {', '.join(self.services)} stopped for {self.seconds:.0f}s "
            f"({self.stopped_at:,} messages published)"
        )
        time.sleep(self.seconds)
        for emulator in emulators:
            emulator.start()
        _say(f"outage drill: {', '.join(self.services)} answering again")
        self.ended = True

    def describe(self) -> dict[str, Any]:
        """Return the drill for the summary."""
        return {
            "services": list(self.services),
            "seconds": self.seconds,
            "stopped_at_published": self.stopped_at,
        }


def replay_dead_letters(cloud: LocalCloud, arguments: list[str], dead_letters: str) -> str:
    """Replay every dead-letter file into BigQuery, as an operator does after an outage.

    Messages dead-lettered as ``sink_unavailable`` land now; the bad ones are
    dead-lettered again, under the returned prefix. The warehouse's row keys
    (and the views) absorb rows a message had already landed.
    """
    from pipeline.main import run

    def option(name: str) -> str:
        return arguments[arguments.index(name) + 1]

    replayed = dead_letters.rstrip("/").rsplit("/", 1)[0] + "/replayed_dead_letters"
    run([
        "--replay", f"{dead_letters.rstrip('/')}/*.ndjson", "--sink", "bigquery",
        "--bq_project", option("--bq_project"), "--bq_dataset", option("--bq_dataset"),
        "--bq_write_method", option("--bq_write_method"), "--dead_letter_prefix", replayed,
    ])  # fmt: skip
    return replayed


def _publish(cloud: LocalCloud, args: Any, messages: list[Any], progress: Any) -> None:
    """Publish the messages at the run's rate with the project's publisher, in a thread."""
    import threading

    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    from ecom_contracts import Publisher
    from ops import local_run
    from pipeline.catalog import CONTRACTS

    client = pubsub_v1.PublisherClient(
        batch_settings=pubsub_v1.types.BatchSettings(max_messages=500, max_latency=0.01)
    )
    publishers = {
        c.topic_id: Publisher(f"projects/{cloud.project}/topics/{c.topic_id}", client=client)
        for c in CONTRACTS
    }
    _say(f"publishing at {args.rate:,.0f}/s")
    threading.Thread(
        target=local_run.publish_at_rate,
        args=(publishers, messages, args.rate, progress),
        daemon=True,
    ).start()


def run_production_shaped(args: Any, workdir: Any, messages: list[Any], expected: Any) -> int:
    """``make run WAREHOUSE=bigquery``: return 0 when it reconciles and both engines agree.

    With ``args.outage`` (a drill), the named services are stopped mid-run and
    started again; once every message is in the warehouse or a dead letter,
    the dead letters are replayed, and the reconciliation must then be exact.
    """
    import json
    import threading
    import time

    from ops import local_pipeline, local_run
    from ops.emulators import EmulatorUnavailableError
    from ops.report import DeadLetterScan, query_differences

    workdir.cloud.mkdir(parents=True, exist_ok=True)
    cloud = LocalCloud(workdir.cloud)
    outage = Outage(tuple(args.outage), args.outage_seconds) if args.outage else None
    try:
        cloud.start()
    except EmulatorUnavailableError as missing:
        _say(f"the production-shaped run cannot start here: {missing}")
        return 1
    progress = local_run.Progress()
    streaming: Any = None
    try:
        _say(
            f"local services: Pub/Sub {cloud.pubsub.host}, BigQuery {cloud.bigquery.rest_host} "
            f"(Storage Write {cloud.bigquery.grpc_host}), Cloud Storage {cloud.storage.endpoint}"
        )
        _say(f"python -m ops.infra apply {' '.join(cloud.infra_arguments())}:")
        cloud.apply_infrastructure(_say)
        arguments = cloud.launch_arguments(args.bq_write_method)
        dead_letters = arguments[arguments.index("--dead_letter_prefix") + 1]
        _say(
            "pipeline: ./run.sh launch's options, the DirectRunner for Dataflow "
            f"(--bq_write_method {args.bq_write_method}; dead letters in {dead_letters})"
        )
        streaming = local_pipeline.run(arguments)
        _publish(cloud, args, messages, progress)
        if outage is not None:
            threading.Thread(
                target=outage.run, args=(cloud, progress, len(messages)), daemon=True
            ).start()
        landing = local_run.bigquery_landing(cloud.bigquery_client(), dead_letters)
        scan, complete = local_run.wait_for_accounting(
            args,
            landing,
            expected,
            progress,
            streaming,
            settled=lambda: outage is None or outage.ended,
            quiet_seconds=0.0 if outage is None else 10.0,
        )
        if not complete:
            return 1
        finished = time.time()
        streaming.cancel()
        streaming = None
        if outage is not None:
            unavailable = sum(r == "sink_unavailable" for r in scan.by_message.values())
            _say(
                f"every message is in BigQuery or a dead letter ({unavailable:,} of them "
                "sink_unavailable); replaying the dead letters, as after an outage"
            )
            landing.dead_letters = replay_dead_letters(cloud, arguments, dead_letters)
            scan = DeadLetterScan()
            scan.scan(landing.dead_letters)
        mode = f"streaming on the local services, {args.bq_write_method}"
        summary, reconciled = local_run.summarize(
            workdir, expected, progress, scan, finished, mode, {}, landing
        )
        if outage is not None:
            summary["outage"] = outage.describe()
        _say("DuckDB: replaying the same messages into the embedded warehouse to compare")
        differences = query_differences(summary["queries"], duckdb_answers(workdir))
        summary["duckdb_comparison"] = differences
        workdir.summary.write_text(json.dumps(summary, indent=2) + "\n")
    finally:
        if streaming is not None:
            streaming.cancel()
        cloud.stop()
    local_run.print_summary(
        summary,
        reconciled,
        workdir.summary,
        queries_on="sql/queries/*.sql as written, answered by the BigQuery emulator in GoogleSQL; "
        "each beside DuckDB's answer for the same messages",
    )
    if differences:
        _say(f"the two engines answer {len(differences)} query(ies) differently")
    return 0 if reconciled and not differences else 1
