"""The accounting invariant, per message: rows or exactly one dead letter, never both or neither."""

from __future__ import annotations

from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from ecom_ingest_pb.deadletter.v1 import dead_letter_pb2
from pipeline.catalog import CONTRACTS
from pipeline.process import process
from pipeline.record import PubsubRecord
from tests.strategies import messages

CONTRACT_NAMES = [c.name for c in CONTRACTS]
ATTRIBUTE_SETS = st.one_of(
    st.fixed_dictionaries({"ecom_contract": st.sampled_from([*CONTRACT_NAMES, "x.Unknown"])}),
    st.fixed_dictionaries(
        {
            "ecom_contract": st.sampled_from(CONTRACT_NAMES),
            "ecom_encoding": st.sampled_from(["BINARY", "JSON", "json", "AVRO", ""]),
        }
    ),
    st.fixed_dictionaries(
        {
            "googclient_schemaname": st.sampled_from(
                ["projects/p/schemas/order-event", "projects/p/schemas/inventory-event", "x"]
            ),
            "googclient_schemaencoding": st.sampled_from(["BINARY", "JSON"]),
        }
    ),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)


def _payloads() -> st.SearchStrategy[bytes]:
    events = st.one_of(*(messages(cast(Any, c.message.DESCRIPTOR)) for c in CONTRACTS))
    encoded = events.map(lambda m: m.SerializeToString())
    mangled = st.tuples(encoded, st.integers(0, 200)).map(lambda pair: pair[0][: pair[1]])
    return st.one_of(
        encoded, mangled, st.binary(max_size=200), st.text(max_size=50).map(str.encode)
    )


def _check(record: PubsubRecord) -> None:
    outcome = process(record)
    assert bool(outcome.rows) != (outcome.dead_letter is not None)
    if outcome.dead_letter is not None:
        letter = outcome.dead_letter
        assert letter.data == record.data
        assert dict(letter.attributes) == record.attributes
        assert letter.reason != dead_letter_pb2.REASON_UNSPECIFIED
        assert letter.detail
        assert "Traceback" not in letter.detail
        if letter.reason == dead_letter_pb2.REASON_INVALID:
            assert letter.violations


@settings(max_examples=400, deadline=None)
@given(st.builds(PubsubRecord, data=_payloads(), attributes=ATTRIBUTE_SETS))
def test_every_message_ends_in_exactly_one_place(record: PubsubRecord):
    _check(record)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(CONTRACTS).flatmap(lambda c: messages(cast(Any, c.message.DESCRIPTOR))))
def test_arbitrary_events_of_known_contracts(event: Any):
    attributes = {"ecom_contract": event.DESCRIPTOR.full_name}
    _check(PubsubRecord(event.SerializeToString(), attributes, "m"))
