"""``make bench``: throughput figures, printed as a table and written as JSON.

Figures (seeded input, single process):

- per-event work (route + decode + validate + model, no Beam) in events/s for
  each event type, for the realistic mix and for the same mix all in JSON,
  beside, on the same messages in the same run: the raw upb parse rate,
  protovalidate's own rate on the decoded events, a naive reference (the
  libraries' decode and protovalidate, then ``json_format.MessageToDict``
  flattened into rows) and the libraries' reference (the same work with
  json_format and protovalidate in place of the generated decoders and rules).
  The targets: the mix at most 1.0 times protovalidate's cost and at least 3.0
  times the naive rate; all-JSON at least 4 times the libraries' rate;
- replay mode end to end (files in, DuckDB out, DirectRunner) in events/s, and
  its CPU seconds per million events with start-up measured apart (the basis
  of the README's Dataflow sizing), with the generated code and with the
  libraries in its place (target: at most half the libraries' CPU);
- streaming mode through the Pub/Sub emulator (``make run`` at the profile's
  size, in a child process): messages/s and publish-to-row latency p50/p99;
- streaming capacity: a backlog published before the pipeline starts, drained by
  the pipeline and by a pass-through pipeline (read, acknowledge, count) on the
  same emulator in the same run; the pipeline's share of the pass-through rate;
- a dead-letter burst: 100,000 undecodable messages of mixed sizes (up to 1 MB)
  dead-lettered in one window by a replay run in a child process, beside a
  burst a fifth that size: throughput, and peak memory of each (which must not
  grow with the burst);
- peak memory of this process and of the streaming run.

``--profile short`` (default) takes seconds; ``--profile long`` uses ten times
more events for steadier figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import apache_beam as beam
import protovalidate
from google.protobuf import json_format
from google.protobuf.message import Message

from ops.emulator_topics import EmulatorTopics, create_topics, topic_of
from ops.local_pipeline.acknowledge import AcknowledgeAfterFn
from ops.local_run import Expectation, expectation
from ops.traffic import TrafficGenerator, TrafficMessage
from pipeline.catalog import BY_NAME
from pipeline.deadletter import delivery_key
from pipeline.decode import decode
from pipeline.model import model
from pipeline.process import process
from pipeline.record import PubsubRecord
from pipeline.route import route

PROFILES = {"short": 20_000, "long": 200_000}
ROUNDS = 5
"""Interleaved rounds of the per-event measurements; each figure is its best round."""
"""Events per measurement of the per-event work; replay end to end uses three times more."""
BURST_MESSAGES = 100_000
PULL_BATCH = 5000
"""Messages per local Pub/Sub read in the capacity drains, for both pipelines alike."""


def _rate(count: int, work: Callable[[], None], repeat: int = 3) -> float:
    """Return the best events/s of ``repeat`` runs of ``work`` over ``count`` events."""
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = max(best, count / (time.perf_counter() - start))
    return best


def _flatten(values: dict[str, Any], prefix: str, row: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten nested dicts into ``row`` (``a_b`` keys); return one row per repeated element."""
    repeated: list[dict[str, Any]] = []
    for name, value in values.items():
        if isinstance(value, dict):
            _flatten(value, f"{prefix}{name}_", row)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            repeated += value
        else:
            row[f"{prefix}{name}"] = value
    lines = []
    for element in repeated:
        line = dict(row)
        _flatten(element, "", line)
        lines.append(line)
    return lines


def naive_rows(event: Message) -> list[dict[str, Any]]:
    """Model naively: ``MessageToDict`` flattened, one row per event and one per line."""
    row: dict[str, Any] = {}
    lines = _flatten(json_format.MessageToDict(event, preserving_proto_field_name=True), "", row)
    return [row, *lines]


_protovalidate = protovalidate.Validator()


def library_decode(record: PubsubRecord) -> Message:
    """Route and decode with the libraries alone: upb for BINARY, json_format for JSON."""
    routed = route(record)
    if routed.encoding == "JSON":
        shaped = json_format.Parse(record.data.decode("utf-8"), routed.contract.pubsub_message())
        return routed.contract.message.FromString(shaped.SerializeToString())
    return decode(record.data, routed)


def naive_process(record: PubsubRecord) -> list[dict[str, Any]]:
    """Route, decode and validate with the libraries, then model naively (the naive reference)."""
    event = library_decode(record)
    if _protovalidate.collect_violations(event):
        return []
    return naive_rows(event)


def library_process(record: PubsubRecord) -> list[Any]:
    """Do the per-event work with the libraries in place of the generated decoders and rules.

    Route, decode (json_format for JSON), protovalidate, then the generated row
    builders: what the pipeline did before validation and JSON decoding were
    generated from the contracts.
    """
    event = library_decode(record)
    if _protovalidate.collect_violations(event):
        return []
    return model(event)


def per_event_figures(count: int, seed: int) -> dict[str, dict[str, Any]]:
    """Per-event work beside parse, protovalidate and the references, per type, mix and JSON.

    ``mix`` is the realistic mix in BINARY, each type its share of it; ``json``
    is the same mix with every message JSON-encoded. On each, in the same run:
    protovalidate's own rate on the decoded events, the naive reference and
    the libraries' reference (:func:`library_process`).
    """
    binary = TrafficGenerator(seed=seed, bad_share=0.0, json_share=0.0).messages(count)
    records = [PubsubRecord(m.data, m.attributes, str(i)) for i, m in enumerate(binary)]
    groups: dict[str, list[PubsubRecord]] = {"mix": records}
    for record in records:
        groups.setdefault(record.attributes["ecom_contract"].rsplit(".", 1)[-1], []).append(record)
    encoded = TrafficGenerator(seed=seed, bad_share=0.0, json_share=1.0).messages(count)
    groups["json"] = [PubsubRecord(m.data, m.attributes, str(i)) for i, m in enumerate(encoded)]
    figures: dict[str, dict[str, Any]] = {}
    for name, group in groups.items():
        events = [library_decode(record) for record in group]
        classes = [BY_NAME[r.attributes["ecom_contract"]].message for r in group]
        wire = [event.SerializeToString() for event in events]
        pairs = list(zip(classes, wire, strict=True))

        def parse(pairs: list[tuple[Any, bytes]] = pairs) -> None:
            for cls, data in pairs:
                cls.FromString(data)

        def validate(events: list[Message] = events) -> None:
            for event in events:
                _protovalidate.collect_violations(event)

        def work(group: list[PubsubRecord] = group) -> None:
            for record in group:
                process(record)

        def naive(group: list[PubsubRecord] = group) -> None:
            for record in group:
                naive_process(record)

        def libraries(group: list[PubsubRecord] = group) -> None:
            for record in group:
                library_process(record)

        # Interleaved rounds, each figure its best: a machine slowing down mid-run (a shared
        # virtual machine does, by a tenth and more) skews no figure alone.
        rates: dict[str, float] = {}
        runs = (("work", work), ("validate", validate), ("naive", naive), ("libraries", libraries))
        for _ in range(ROUNDS):
            for label, run in runs:
                rates[label] = max(rates.get(label, 0.0), _rate(len(group), run, repeat=1))
        figures[name] = {
            "events": len(group),
            "events_per_s": round(rates["work"]),
            "upb_parse_per_s": round(_rate(len(group), parse)),
            "validate_per_s": round(rates["validate"]),
            "naive_per_s": round(rates["naive"]),
            "libraries_per_s": round(rates["libraries"]),
            "cost_vs_validator": round(rates["validate"] / rates["work"], 2),
            "speed_vs_naive": round(rates["work"] / rates["naive"], 2),
            "speed_vs_libraries": round(rates["work"] / rates["libraries"], 2),
        }
    return figures


def replay_figures(count: int, seed: int, baseline: Path | None = None) -> dict[str, Any]:
    """Replay mode end to end: NDJSON file in, DuckDB out, on the DirectRunner.

    Each measurement runs in a fresh process (``ops/replay_cpu.py``) on the same
    input. CPU per million events leaves start-up out: a first replay of
    :data:`STARTUP_EVENTS` events measures the process's start-up (reported
    apart), a second one what any replay costs beside its events, which is
    taken off the input's replay; the rate is over the remaining events.
    Measured with the generated decoders and rules, then with the libraries in
    their place (``libraries``), and, given
    ``baseline`` (a checkout of an earlier revision), with that revision's
    pipeline (``baseline``: the issue's "today").
    """
    with tempfile.TemporaryDirectory(prefix="bench-") as temp:
        folder = Path(temp)
        generator = TrafficGenerator(seed=seed)
        messages = list(generator.messages(count))
        for name, part in (("startup", messages[:STARTUP_EVENTS]), ("input", messages)):
            lines = [
                PubsubRecord(m.data, m.attributes, f"m{i}", "2025-12-01T00:00:00Z").to_json()
                for i, m in enumerate(part)
            ]
            (folder / f"{name}.ndjson").write_text("\n".join(lines) + "\n")
        generated = _replay_cpu(ROOT, folder, count, {})
        libraries = _replay_cpu(ROOT, folder, count, LIBRARIES)
        figures = {
            **generated,
            "libraries": libraries,
            "cpu_vs_libraries": _ratio(generated, libraries),
        }
        if baseline is not None:
            before = _replay_cpu(baseline, folder, count, {})
            figures["baseline"] = {**before, "checkout": str(baseline)}
            figures["cpu_vs_baseline"] = _ratio(generated, before)
        return figures


ROOT = Path(__file__).resolve().parent.parent
STARTUP_EVENTS = 200
"""Events of the replay that measures start-up (pipeline construction, DuckDB, the runner)."""
LIBRARIES = {"ECOM_VALIDATION_ENGINE": "protovalidate", "ECOM_JSON_DECODER": "json_format"}
"""The environment that puts protovalidate and json_format in place of the generated code."""


def _ratio(figures: dict[str, Any], reference: dict[str, Any]) -> float | None:
    if "failed" in figures or "failed" in reference or not reference["cpu_seconds_per_million"]:
        return None
    ratio: float = figures["cpu_seconds_per_million"] / reference["cpu_seconds_per_million"]
    return round(ratio, 2)


def _replay_cpu(
    checkout: Path, folder: Path, count: int, environment: dict[str, str]
) -> dict[str, Any]:
    """Replay the input with ``checkout``'s pipeline in a child process; its CPU figures."""
    import os
    import subprocess

    completed = subprocess.run(
        [sys.executable, str(ROOT / "ops" / "replay_cpu.py"), str(checkout),
         str(folder / "startup.ndjson"), str(folder / "input.ndjson")],
        capture_output=True, text=True, check=False, cwd=checkout,
        env={**os.environ, **environment},
    )  # fmt: skip
    if completed.returncode != 0:
        return {"failed": completed.stderr[-800:]}
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    cpu = max(measured["cpu_seconds"] - measured["run_cpu_seconds"], 0.0)
    return {
        "events": count,
        "seconds": round(measured["seconds"], 2),
        "events_per_s": round(count / measured["seconds"]),
        "startup_cpu_seconds": round(measured["startup_cpu_seconds"], 2),
        "cpu_seconds_per_million": round(cpu / (count - STARTUP_EVENTS) * 1_000_000, 1),
    }


BURST_SIZES = ((0.002, 1024 * 1024), (0.02, 100 * 1024), (0.2, 10 * 1024), (1.0, 512))
"""Payload sizes of a dead-letter burst: (cumulative share, bytes); up to 1 MB."""


def write_burst(path: Path, count: int, seed: int) -> int:
    """Write ``count`` undecodable order messages of mixed sizes as replay input; return bytes."""
    import base64
    import random

    chooser = random.Random(seed)
    total = 0
    with path.open("w") as handle:
        for number in range(count):
            draw = chooser.random()
            size = next(size for share, size in BURST_SIZES if draw < share)
            payload = b"\xff" + chooser.randbytes(size - 1)  # field 31, wire type 7: no proto
            total += size
            handle.write(
                json.dumps(
                    {
                        "data": base64.b64encode(payload).decode("ascii"),
                        "attributes": {"ecom_contract": "ecom.events.v1.OrderEvent"},
                        "messageId": f"burst-{number}",
                        "publishTime": "2025-12-01T00:00:00Z",
                    }
                )
                + "\n"
            )
    return total


def burst_child(count: int, folder: Path, seed: int) -> dict[str, Any]:
    """In a child process: dead-letter a burst through the replay pipeline; its own figures."""
    from pipeline.main import run

    payload_bytes = write_burst(folder / "burst.ndjson", count, seed)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    run(
        ["--replay", str(folder / "burst.ndjson"), "--sink", "files",
         "--output_dir", str(folder / "rows"), "--dead_letter_prefix", str(folder / "dead_letters"),
         "--dead_letter_window_seconds", "3600", "--direct_num_workers", "1"]
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    records = sum(1 for path in (folder / "dead_letters").glob("*.ndjson") for _ in path.open("rb"))
    return {
        "messages": count,
        "payload_mib": round(payload_bytes / 2**20),
        "dead_letters": records,
        "seconds": round(elapsed, 1),
        "messages_per_s": round(count / elapsed),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "memory_before_run_mib": round(before / 1024),
    }


def burst_figures(count: int, seed: int) -> dict[str, Any]:
    """Dead-letter bursts of ``count`` and ``count / 5`` messages, each in a fresh process."""
    import subprocess

    figures: dict[str, Any] = {}
    for size in (count // 5, count):
        with tempfile.TemporaryDirectory(prefix="bench-burst-") as temp:
            completed = subprocess.run(
                [sys.executable, "-m", "ops.bench", "--burst-child", str(size), "--workdir", temp,
                 "--seed", str(seed)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if completed.returncode != 0:
                return {"failed": completed.stderr[-800:]}
            figures[str(size)] = json.loads(completed.stdout.strip().splitlines()[-1])
    small, large = figures[str(count // 5)], figures[str(count)]
    figures["memory_growth_mib"] = large["peak_memory_mib"] - small["peak_memory_mib"]
    return figures


class _CountFn(beam.DoFn):
    """Count the messages of each bundle: the pass-through pipeline's only work."""

    counted: ClassVar[int] = 0
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def start_bundle(self) -> None:
        self._count = 0

    def process(self, element: PubsubRecord | list[PubsubRecord]) -> None:
        self._count += len(element) if isinstance(element, list) else 1

    def finish_bundle(self) -> None:
        with self._lock:
            _CountFn.counted += self._count


class _AcknowledgeCounted(AcknowledgeAfterFn):
    """Acknowledge every message the count received, as the pipeline's writers do theirs."""

    def received(self, element: PubsubRecord | list[PubsubRecord]) -> Iterable[str]:
        records = element if isinstance(element, list) else [element]
        return (delivery_key(record) for record in records)


def _drain(start: Callable[[], Any], done: Callable[[], bool], timeout: float) -> float | None:
    """Start a streaming pipeline; return the seconds until ``done``, or None on timeout."""
    began = time.perf_counter()
    result = start()
    try:
        while time.perf_counter() - began < timeout:
            if done():
                return time.perf_counter() - began
            time.sleep(0.25)
        return None
    finally:
        result.cancel()


PASS_THROUGH = "-passthrough"
"""The pass-through pipeline's subscriptions: the pipeline's names with this suffix."""


@dataclass(frozen=True)
class Backlog:
    """Messages published to the emulator before any pipeline reads them."""

    topics: EmulatorTopics
    messages: list[TrafficMessage]
    expected: Expectation


def publish_backlog(count: int, seed: int) -> Backlog:
    """Publish ``count`` generated messages to topics the pipeline and the pass-through read."""
    messages = list(TrafficGenerator(seed=seed).messages(count))
    topics = create_topics(
        "ecom-bench", ("", PASS_THROUGH), ack_deadline_seconds=600, publish_batch=(1000, 0.05)
    )
    futures = [
        topics.publisher.publish(topics.topic(topic_of(m)), m.data, **m.attributes)
        for m in messages
    ]
    for future in futures:
        future.result()
    return Backlog(topics, messages, expectation(messages))


def drain_pass_through(backlog: Backlog, timeout: float) -> float | None:
    """Return the seconds a pass-through pipeline (read, acknowledge, count) takes to drain it."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    from ops.local_pipeline.deliveries import Deliveries
    from ops.local_pipeline.pulls import pull_locally
    from pipeline.sources import ReadMessages

    def start() -> Any:
        specs = backlog.topics.subscriptions[PASS_THROUGH]
        deliveries = Deliveries()
        pull_locally([spec.rpartition("=")[2] for spec in specs], PULL_BATCH, deliveries)
        options = PipelineOptions(["--streaming"])
        options.view_as(StandardOptions).streaming = True
        pipeline = beam.Pipeline(options=options)
        _ = (
            pipeline
            | ReadMessages(specs, [])
            | "PassThrough" >> beam.ParDo(_AcknowledgeCounted(_CountFn(), deliveries.run_id))
        )
        return pipeline.run()

    _CountFn.counted = 0
    return _drain(start, lambda: _CountFn.counted >= len(backlog.messages), timeout)


def drain_pipeline(backlog: Backlog, timeout: float) -> float | None:
    """Return the seconds the pipeline (the local run, into DuckDB) takes to account for it all."""
    import duckdb

    from ops import local_pipeline
    from ops.report import DeadLetterScan, landed_count
    from pipeline.warehouse import create_tables

    expected = backlog.expected
    with tempfile.TemporaryDirectory(prefix="bench-capacity-") as temp:
        folder = Path(temp)
        with duckdb.connect(str(folder / "w.duckdb")) as connection:
            create_tables(connection)
        scan = DeadLetterScan()
        target = len(expected.events) + expected.dead_letters

        def accounted() -> bool:
            if (folder / "dl").exists():
                scan.scan(folder / "dl")
            if len(scan.by_message) < expected.dead_letters:
                return False
            with duckdb.connect(str(folder / "w.duckdb")) as connection:
                landed = landed_count(connection)
            return landed + len(scan.by_message) >= target

        arguments = [*backlog.topics.subscription_arguments(),
                     "--sink", "duckdb", "--duckdb_path", str(folder / "w.duckdb"),
                     "--dead_letter_prefix", str(folder / "dl"),
                     "--dead_letter_window_seconds", "2",
                     "--direct_pubsub_batch", str(PULL_BATCH)]  # fmt: skip
        return _drain(lambda: local_pipeline.run(arguments), accounted, timeout)


def capacity_figures(count: int, seed: int, timeout: float = 600) -> dict[str, Any]:
    """Drain one published backlog with the pipeline and with a pass-through pipeline."""
    from ops.emulators import EmulatorUnavailableError, PubsubEmulator

    try:
        emulator = PubsubEmulator()
        emulator.start()
    except EmulatorUnavailableError as missing:
        return {"skipped": str(missing)}
    try:
        backlog = publish_backlog(count, seed)
        pass_through_s = drain_pass_through(backlog, timeout)
        pipeline_s = drain_pipeline(backlog, timeout)
    finally:
        emulator.stop()
    if pass_through_s is None or pipeline_s is None:
        return {"failed": f"a drain of {count:,} did not finish within {timeout:.0f}s"}
    return {
        "backlog": count,
        "pass_through_per_s": round(count / pass_through_s),
        "pipeline_per_s": round(count / pipeline_s),
        "share_of_pass_through": round(pass_through_s / pipeline_s, 2),
        "nothing_lost": True,
    }


def streaming_figures(count: int, seed: int) -> dict[str, Any]:
    """Streaming through the emulator: ``ops.local_run`` in a child process, at 1,000/s."""
    import subprocess

    from ops.emulators import EmulatorUnavailableError, find_emulator_jar

    try:
        find_emulator_jar()
    except EmulatorUnavailableError as missing:
        return {"skipped": str(missing)}
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as temp:
        completed = subprocess.run(
            [sys.executable, "-m", "ops.local_run", "--events", str(count), "--rate", "1000",
             "--seed", str(seed), "--workdir", temp, "--timeout", "600"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if completed.returncode != 0:
            return {"failed": completed.stdout[-500:] + completed.stderr[-500:]}
        summary = json.loads((Path(temp) / "summary.json").read_text())
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "events": count,
        "offered_per_s": 1000,
        "events_per_s": summary["events_per_s"],
        "latency_p50_s": summary["event_to_row_latency_s"]["p50"],
        "latency_p99_s": summary["event_to_row_latency_s"]["p99"],
        "reconciled": True,
        "peak_memory_mib": round(usage.ru_maxrss / 1024),
    }


def parser() -> argparse.ArgumentParser:
    """Return the command's argument parser."""
    parsing = argparse.ArgumentParser(
        prog="python -m ops.bench",
        description=__doc__.split("\n")[0],
        epilog="exit status: 0 measured (figures that could not be taken say why), 2 usage error",
    )
    parsing.add_argument("--profile", choices=sorted(PROFILES), default="short")
    parsing.add_argument("--seed", type=int, default=7)
    parsing.add_argument("--output", default="bench.json", help="where to write the JSON figures")
    parsing.add_argument(
        "--skip-replay",
        action="store_true",
        help="per-event figures only (no replay, no streaming, no burst)",
    )
    parsing.add_argument(
        "--replay-baseline",
        type=Path,
        metavar="CHECKOUT",
        help="also replay with the pipeline of this checkout of an earlier revision (for example "
        "`git worktree add /tmp/before <rev>`) and report the CPU against it",
    )
    parsing.add_argument("--burst-child", type=int, help=argparse.SUPPRESS)
    parsing.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    return parsing


def measure(
    profile: str, seed: int, skip_replay: bool, baseline: Path | None = None
) -> dict[str, Any]:
    """Take every figure of ``profile`` (only the per-event ones with ``skip_replay``).

    ``baseline``: a checkout of an earlier revision to replay beside this one.
    """
    count = PROFILES[profile]
    report: dict[str, Any] = {
        "profile": profile,
        "seed": seed,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "per_event": per_event_figures(count, seed),
    }
    if not skip_replay:
        report["replay_end_to_end"] = replay_figures(count * 3, seed, baseline)
        report["streaming"] = streaming_figures(count // 4, seed)
        report["dead_letter_burst"] = burst_figures(BURST_MESSAGES, seed)
        report["streaming_capacity"] = capacity_figures(count * 3, seed)
    report["peak_memory_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return report


def print_per_event(per_event: dict[str, dict[str, Any]]) -> None:
    """Print the per-event work per type, for the mix and for JSON, against the targets."""
    print(
        f"{'per-event work (route+decode+validate+model)':<44}{'events/s':>10}{'upb parse/s':>12}"
        f"{'protovalidate/s':>16}{'naive/s':>9}{'libraries/s':>12}{'cost/pv':>8}{'x naive':>8}"
        f"{'x libs':>7}"
    )
    for name, figures in per_event.items():
        print(
            f"  {name:<42}{figures['events_per_s']:>10,}{figures['upb_parse_per_s']:>12,}"
            f"{figures['validate_per_s']:>16,}{figures['naive_per_s']:>9,}"
            f"{figures['libraries_per_s']:>12,}{figures['cost_vs_validator']:>8}"
            f"{figures['speed_vs_naive']:>8}{figures['speed_vs_libraries']:>7}"
        )
    mix, encoded = per_event["mix"], per_event["json"]
    print(
        f"  targets: the mix at most 1.0x protovalidate's cost (measured "
        f"{mix['cost_vs_validator']}x) and at least 3.0x the naive rate (measured "
        f"{mix['speed_vs_naive']}x); all-JSON at least 4x the libraries' rate (measured "
        f"{encoded['speed_vs_libraries']}x)"
    )


def print_end_to_end(report: dict[str, Any]) -> None:
    """Print the replay, streaming and capacity figures, or why one was not measured."""
    if "replay_end_to_end" in report:
        replay = report["replay_end_to_end"]
        for label, figures in (
            ("replay end to end (file -> DuckDB, DirectRunner)", replay),
            ("  the same with the libraries", replay["libraries"]),
            ("  the same with the baseline checkout", replay.get("baseline")),
        ):
            if figures is None:
                continue
            if "failed" in figures:
                print(f"{label}: not measured ({figures['failed'][-300:]})")
                continue
            print(
                f"{label:<48}{figures['events_per_s']:>12,}   CPU "
                f"{figures['cpu_seconds_per_million']:,} s per million events (start-up apart: "
                f"{figures['startup_cpu_seconds']} s)"
            )
        against = f"{replay['cpu_vs_libraries']}x the libraries' CPU in this pipeline"
        if "cpu_vs_baseline" in replay:
            against = f"{replay['cpu_vs_baseline']}x the baseline checkout's; {against}"
        print(f"  target: at most 0.5x the CPU before the generated code (measured {against})")
    stream = report.get("streaming", {})
    if "events_per_s" in stream:
        print(
            f"{'streaming via the emulator (offered 1,000/s)':<48}{stream['events_per_s']:>12,}"
            f"   latency p50 {stream['latency_p50_s']}s p99 {stream['latency_p99_s']}s"
        )
    elif stream:
        print(f"streaming via the emulator: not measured ({next(iter(stream.values()))})")
    capacity = report.get("streaming_capacity", {})
    if "pipeline_per_s" in capacity:
        print(
            f"{'streaming capacity: drain a backlog of ' + format(capacity['backlog'], ',')}"
            f"{'':<8}{capacity['pipeline_per_s']:>12,}   pass-through "
            f"{capacity['pass_through_per_s']:,}/s, share {capacity['share_of_pass_through']:.0%}"
        )
    elif capacity:
        print(f"streaming capacity: not measured ({next(iter(capacity.values()))})")


def print_burst(burst: dict[str, Any]) -> None:
    """Print each dead-letter burst's rate and peak memory, and how memory grew between them."""
    if "memory_growth_mib" in burst:
        for size, figures in burst.items():
            if isinstance(figures, dict):
                print(
                    f"  dead-letter burst of {int(size):,} ({figures['payload_mib']:,} MiB):"
                    f"{figures['messages_per_s']:>10,} msgs/s, peak memory "
                    f"{figures['peak_memory_mib']:,} MiB, {figures['dead_letters']:,} records"
                )
        print(f"  peak memory growth from the smaller burst: {burst['memory_growth_mib']} MiB")
    elif burst:
        print(f"dead-letter burst: not measured ({burst.get('failed', '')[-300:]})")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table and write the JSON file."""
    args = parser().parse_args(argv)
    if args.burst_child:
        print(json.dumps(burst_child(args.burst_child, args.workdir, args.seed)))
        return 0
    if args.replay_baseline is not None and not (args.replay_baseline / "pipeline").is_dir():
        parser().error(f"--replay-baseline {args.replay_baseline}: not a checkout of this project")
    report = measure(args.profile, args.seed, args.skip_replay, args.replay_baseline)
    print_per_event(report["per_event"])
    print_end_to_end(report)
    print_burst(report.get("dead_letter_burst", {}))
    print(f"{'peak memory (MiB)':<48}{report['peak_memory_mib']:>12,}")
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
