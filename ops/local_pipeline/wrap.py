"""Wrap the writers of a built ingestion graph so that they acknowledge, changing nothing else.

``pipeline.main.build`` makes one graph for Dataflow and for local runs. For a
local run, each step that makes a message's outcome durable is swapped, in
place and under its own label, for the same DoFn inside an acknowledging
wrapper (:mod:`ops.local_pipeline.acknowledge`), with Beam's own mechanism for
runner-specific rewrites (``Pipeline.replace_all`` with a ``PTransformOverride``,
as the DirectRunner rewrites ``ReadFromPubSub`` for itself). The graph keeps
its shape; the production graph has no hook for any of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import apache_beam as beam
from apache_beam.pipeline import AppliedPTransform, PTransformOverride
from typing_extensions import override

from ops.local_pipeline.acknowledge import (
    AcknowledgeAfterFn,
    AcknowledgeWrittenDeadLetters,
    AcknowledgeWrittenRows,
)
from pipeline.deadletter_files import WriteDeadLetterFilesFn
from pipeline.sinks.warehouse_sink import WarehouseSinkFn


class WrapWriters(PTransformOverride):
    """Swap each ParDo of one writer DoFn type for the same DoFn inside an acknowledging wrapper."""

    def __init__(
        self, writer: type[beam.DoFn], wrapper: type[AcknowledgeAfterFn], run_id: str
    ) -> None:
        self.writer = writer
        self.wrapper = wrapper
        self.run_id = run_id
        self.wrapped: list[str] = []
        """Labels of the steps wrapped so far."""

    @override
    def matches(self, applied_ptransform: AppliedPTransform) -> bool:
        transform = applied_ptransform.transform
        return isinstance(transform, beam.ParDo) and isinstance(transform.fn, self.writer)

    @override
    def get_replacement_transform_for_applied_ptransform(
        self, applied_ptransform: AppliedPTransform
    ) -> beam.PTransform:  # type: ignore[type-arg]
        transform = applied_ptransform.transform
        assert isinstance(transform, beam.ParDo)
        self.wrapped.append(applied_ptransform.full_label)
        return beam.ParDo(self.wrapper(transform.fn, self.run_id))


@dataclass(frozen=True)
class WrappedWriters:
    """The labels of the steps a local run acknowledges after."""

    sinks: list[str]
    dead_letter_writers: list[str]


class NothingToAcknowledgeAfterError(RuntimeError):
    """The graph lacks a warehouse sink or a dead-letter writer: messages would stay unacked."""


def acknowledge_after_writes(pipeline: beam.Pipeline, run_id: str) -> WrappedWriters:
    """Wrap every warehouse sink and dead-letter writer of ``pipeline`` for the run ``run_id``.

    Raises NothingToAcknowledgeAfterError when either is missing: a message
    could then end where nothing acknowledges it, and be delivered forever.
    """
    sinks = WrapWriters(WarehouseSinkFn, AcknowledgeWrittenRows, run_id)
    letters = WrapWriters(WriteDeadLetterFilesFn, AcknowledgeWrittenDeadLetters, run_id)
    pipeline.replace_all([sinks, letters])
    if not sinks.wrapped or not letters.wrapped:
        raise NothingToAcknowledgeAfterError(
            f"a local run acknowledges after a warehouse sink and the dead-letter writers; "
            f"this graph has sinks {sinks.wrapped} and dead-letter writers {letters.wrapped}"
        )
    return WrappedWriters(sinks.wrapped, letters.wrapped)
