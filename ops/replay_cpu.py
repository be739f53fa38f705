"""One replay's CPU seconds, with the pipeline of a given checkout (a child of ``ops.bench``).

Run by path, ``python ops/replay_cpu.py CHECKOUT STARTUP_FILE INPUT_FILE [REPEAT]``: it
puts ``CHECKOUT`` (and its ``generated/``) first on the import path and imports
nothing else of this repository, so that the same measurement runs against
this checkout and against an earlier one (``ops.bench --replay-baseline``).
It replays ``STARTUP_FILE`` (a few events) twice: the first replay is the
process's start-up (imports, the runner's and DuckDB's first use), the second
what every replay costs beside its events (building the pipeline, a fresh DuckDB
file and its tables). Then it replays ``INPUT_FILE`` ``REPEAT`` times (default
3), each into a fresh DuckDB file, and prints one JSON line: the CPU seconds of
the two small replays, and the CPU and wall seconds of the input's least costly
replay (the others were slowed by something else on the machine).
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def replay(run: object, path: str) -> tuple[float, float]:
    """Replay ``path`` into DuckDB with ``run`` (``pipeline.main.run``); (CPU s, wall s)."""
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as temp:
        before, start = _cpu_seconds(), time.perf_counter()
        run(  # type: ignore[operator]
            [
                "--replay", path,
                "--sink", "duckdb",
                "--duckdb_path", str(Path(temp) / "warehouse.duckdb"),
                "--dead_letter_prefix", str(Path(temp) / "dead_letters"),
                "--direct_num_workers", "1",
            ]
        )  # fmt: skip
        return _cpu_seconds() - before, time.perf_counter() - start


def main(argv: list[str]) -> int:
    """Measure; print the figures as one JSON line."""
    checkout, startup_file, input_file = argv[:3]
    repeat = int(argv[3]) if len(argv) > 3 else 3
    sys.path[0:1] = [checkout, str(Path(checkout) / "generated")]  # not this script's folder
    import pipeline.main

    if not Path(pipeline.main.__file__).resolve().is_relative_to(Path(checkout).resolve()):
        print(f"{checkout} has no pipeline of its own ({pipeline.main.__file__})", file=sys.stderr)
        return 1
    startup_cpu, _ = replay(pipeline.main.run, startup_file)
    overhead_cpu, _ = replay(pipeline.main.run, startup_file)
    cpu, wall = min(replay(pipeline.main.run, input_file) for _ in range(repeat))
    print(
        json.dumps(
            {
                "startup_cpu_seconds": startup_cpu,
                "run_cpu_seconds": overhead_cpu,
                "cpu_seconds": cpu,
                "seconds": wall,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
