"""How the pipeline's own element types cross a stage boundary, and what they weigh.

A runner encodes an element when it leaves a fused stage, and, to keep its
byte counters, it also *sizes* a sample of the elements every step outputs: at
first every element, later about ten per doubling. With Beam's default coder a
:class:`~pipeline.record.PubsubRecord` or a
:class:`~ecom_warehouse_runtime.fact_rows.FactRow` is sized by pickling it,
and the pipeline's elements are batches of a thousand messages, so the sizing
of a replay cost more CPU than decoding its messages did.

The coders registered here encode a record or a row as a pickled tuple of
built-in values (a fraction of a dataclass's pickling) and estimate its size
without encoding it: a record weighs its payload and a share per attribute, a row its
key and a fixed share per column. Estimates feed the runner's mean-byte counters
only; nothing is decided from them. Importing this module registers both.
"""

from __future__ import annotations

import pickle
from typing import Any

from apache_beam.coders import coder_impl
from apache_beam.coders.coders import FastCoder
from apache_beam.coders.typecoders import registry
from typing_extensions import override

from ecom_warehouse_runtime.fact_rows import FactRow
from pipeline.record import PubsubRecord

COLUMN_BYTES = 24
"""Estimated encoded bytes of one column of a row (name and value; the mean is about that)."""
RECORD_OVERHEAD = 80
"""Estimated encoded bytes of a record beside its payload and attributes (ids, framing)."""
ATTRIBUTE_BYTES = 40
"""Estimated encoded bytes of one attribute (name and value; the mean is about that)."""


def _encode_record(record: PubsubRecord) -> bytes:
    return pickle.dumps(
        (
            record.data,
            record.attributes,
            record.message_id,
            record.publish_time,
            record.default_contract,
        ),
        pickle.HIGHEST_PROTOCOL,
    )


def _decode_record(encoded: bytes) -> PubsubRecord:
    return PubsubRecord(*pickle.loads(encoded))


def record_size(record: PubsubRecord) -> int:
    """Return the estimated encoded bytes of ``record``: its payload and a share per attribute."""
    return len(record.data) + ATTRIBUTE_BYTES * len(record.attributes) + RECORD_OVERHEAD


def row_size(row: FactRow) -> int:
    """Return the estimated encoded bytes of ``row``: its key and a fixed share per column."""
    return len(row.key) + COLUMN_BYTES * len(row.row)


class PubsubRecordCoder(FastCoder):
    """A PubsubRecord as a pickled tuple; sized from its payload without encoding it."""

    @override
    def _create_impl(self) -> Any:
        return coder_impl.CallbackCoderImpl(_encode_record, _decode_record, record_size)

    @override
    def is_deterministic(self) -> bool:
        return False  # attributes are a dict: equal records may encode differently

    @override
    def to_type_hint(self) -> Any:
        return PubsubRecord


class FactRowCoder(FastCoder):
    """A FactRow as a pickled tuple; sized from its key and column count without encoding it."""

    @override
    def _create_impl(self) -> Any:
        return coder_impl.CallbackCoderImpl(
            lambda row: pickle.dumps(tuple(row), pickle.HIGHEST_PROTOCOL),
            lambda encoded: FactRow(*pickle.loads(encoded)),
            row_size,
        )

    @override
    def is_deterministic(self) -> bool:
        return False  # a row is a dict

    @override
    def to_type_hint(self) -> Any:
        return FactRow


registry.register_coder(PubsubRecord, PubsubRecordCoder)
registry.register_coder(FactRow, FactRowCoder)
