"""The worker's heap: the cyclic collector tuned to a process that handles messages in batches.

A worker process holds hundreds of thousands of long-lived objects (Beam's
runner, the contracts' classes and descriptors, the sinks' clients) before it
processes a message, and every message then makes dozens of containers (its
event's rows among them) that live until their batch is written. CPython's
cyclic collector scans the young generation every 700 net allocations and,
as survivors pile up, every object it tracks; in a replay about one
CPU-second in five went to scanning objects that were not garbage.
:func:`prepare_worker_heap`, once per process, moves the objects alive when
processing starts into the collector's permanent generation (``gc.freeze``)
and lets the young generation grow to :data:`YOUNG_THRESHOLD` allocations
before a collection. Reference counting still frees a message's objects as
soon as they are written; only cycles wait a little longer.
"""

from __future__ import annotations

import gc
import threading
from typing import Final

YOUNG_THRESHOLD: Final = 50_000
"""Net allocations between two collections of the young generation (CPython's default: 700)."""

_lock = threading.Lock()
_prepared = False


def prepare_worker_heap() -> bool:
    """Collect once, freeze what is alive, raise the young threshold; False if already done.

    Called when a worker's first processing step is set up.
    """
    global _prepared
    with _lock:
        if _prepared:
            return False
        gc.collect()
        gc.freeze()
        _, middle, old = gc.get_threshold()
        gc.set_threshold(YOUNG_THRESHOLD, middle, old)
        _prepared = True
        return True
