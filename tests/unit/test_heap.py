"""The worker's heap: prepared once per process, long-lived objects frozen."""

from __future__ import annotations

import gc

from pipeline import heap
from pipeline.transforms import ProcessFn


def test_the_first_processing_step_prepares_the_heap_once():
    ProcessFn().setup()  # whatever ran before in this process, the heap is prepared now
    assert heap.prepare_worker_heap() is False  # and only once
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
    assert gc.get_freeze_count() > 10_000  # the modules, classes and descriptors loaded
