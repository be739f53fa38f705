"""Stage 7, write dead letters: NDJSON files as they come, per window and event family.

Built for the bad day, when everything is dead-lettered at once and payloads
of up to 10 MB arrive by the hundred thousand: there is no shuffle and no
gathering of a window. Each bundle streams its records straight into one file
per processing-time window and event family (``OrderEvent``, ``unknown``...),
written under a temporary name and renamed when the bundle ends, so a reader
never sees half a file and memory holds one record at a time, whatever the
burst. Every worker writes its own files: no hot key.

One record per message per window: a delivery key (the message id) is
remembered, for its window, once the bundle that wrote it has finished; a
later delivery of the same message in the same window adds nothing (its
first copy is durable, or becomes so with its bundle). Memory per window
is those keys (about 100 bytes each), not the payloads. The keys are
per process: on Dataflow a redelivery that reaches another worker can yield a
second record with the same ``messageId`` (exactly-once streaming deduplicates
Pub/Sub redeliveries before they get here; dead letters are at least once
across runs anyway). File names carry the window, the family, a per-launch id
and a random part, so nothing is ever overwritten.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.pvalue import PCollection
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue
from typing_extensions import override

from pipeline.deadletter import DeadLetterElement

KEPT_WINDOWS = 3
"""Windows whose delivery keys are remembered (the current one and a few late bundles')."""


def window_name(start: int, seconds: int) -> str:
    """Return the ``START-END`` part of a file name for the window starting at ``start``."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(start))
    return f"{stamp}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime(start + seconds))}"


class WriteDeadLetterFilesFn(beam.DoFn):
    """Stream each bundle's dead letters into per-window, per-family files, renamed at its end."""

    _committed: ClassVar[dict[tuple[str, int], set[str]]] = {}
    """Delivery keys written by finished bundles, per (launch, window start)."""
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, prefix: str, window_seconds: int, run_id: str) -> None:
        self.prefix = prefix.rstrip("/")
        self.window_seconds = window_seconds
        self.run_id = run_id
        self._files: dict[tuple[int, str], tuple[str, Any]] = {}
        self._pending: dict[int, set[str]] = {}

    @override
    def start_bundle(self) -> None:
        self._abandon()
        self._pending = {}

    @override
    def teardown(self) -> None:
        self._abandon()

    def _abandon(self) -> None:
        """Close what a failed bundle left open; its ``.tmp`` files are never renamed."""
        for _, handle in self._files.values():
            handle.close()
        self._files = {}

    def _file(self, start: int, family: str) -> Any:
        opened = self._files.get((start, family))
        if opened is None:
            name = (
                f"{self.prefix}/dead-letters-{window_name(start, self.window_seconds)}-{family}-"
                f"{self.run_id}-{uuid.uuid4().hex[:8]}"
            )
            opened = self._files[start, family] = (name, FileSystems.create(f"{name}.ndjson.tmp"))
        return opened[1]

    @override
    def process(self, element: DeadLetterElement) -> None:
        key, letter = element
        start = int(time.time() // self.window_seconds) * self.window_seconds
        pending = self._pending.setdefault(start, set())
        with self._lock:
            written = key in self._committed.get((self.run_id, start), ())
        if written or key in pending:
            return  # a delivery of a message this window already holds
        pending.add(key)
        self._file(start, letter.family).write(letter.line.encode() + b"\n")

    @override
    def finish_bundle(self) -> Iterator[Any]:
        names = []
        for name, handle in self._files.values():
            handle.close()
            FileSystems.rename([f"{name}.ndjson.tmp"], [f"{name}.ndjson"])
            names.append(f"{name}.ndjson")
        with self._lock:
            for start, keys in self._pending.items():
                self._committed.setdefault((self.run_id, start), set()).update(keys)
            newest = max((start for _, start in self._committed), default=0)
            horizon = newest - KEPT_WINDOWS * self.window_seconds
            for stale in [k for k in self._committed if k[1] < horizon]:
                del self._committed[stale]
        self._files = {}
        for name in names:
            yield WindowedValue(name, 0, (GlobalWindow(),))


class WriteDeadLetters(beam.PTransform[PCollection[Any], Any]):
    """Stage 7: dead-letter elements to NDJSON files under ``prefix`` (folder or ``gs://``).

    Files are per processing-time window (the time of failure): a dead letter's
    event time may be missing or garbage, and operators look for failures by
    when they happened. Returns the names of the files written.
    """

    def __init__(self, prefix: str, window_seconds: int = 60) -> None:
        super().__init__()
        self.prefix = prefix
        self.window_seconds = window_seconds
        self.run_id = uuid.uuid4().hex[:12]

    @override
    def expand(self, letters: PCollection[Any]) -> Any:
        return letters | "WriteDeadLetterFiles" >> beam.ParDo(
            WriteDeadLetterFilesFn(self.prefix, self.window_seconds, self.run_id)
        )
