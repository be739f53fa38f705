"""The worker's heap: what lives as long as the worker is kept out of the collector's full passes.

A worker process holds hundreds of thousands of long-lived objects (Beam's
runner, the contracts' classes and descriptors, the sinks' clients) before it
processes a message, and every message then makes dozens of short-lived
containers (its rows among them). CPython's cyclic collector runs a full pass
over *every* tracked object each time enough young ones survive, so in a
replay about one CPU-second in seven went to scanning objects that can never
be garbage. :func:`freeze_long_lived` moves the objects alive when processing
starts into the collector's permanent generation (``gc.freeze``), once per
process; what the messages make is collected as before.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_frozen = False


def freeze_long_lived() -> bool:
    """Collect once, then freeze every object alive now; return False if already done.

    Called when a worker's first processing step is set up. Garbage made
    before that is collected first, so freezing keeps only live objects.
    """
    global _frozen
    with _lock:
        if _frozen:
            return False
        gc.collect()
        gc.freeze()
        _frozen = True
        return True
