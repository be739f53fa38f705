"""The generated JSON decoders against json_format, their oracle: the same event or the same error.

Every payload is decoded twice: by ``ecom_contracts.decode`` (the generated
decoder, json_format where it declines) and by json_format alone
(``decode_with_json_format``). They must agree on valid events written every
way proto3 JSON allows (either key spelling, int64 as a string or a number,
enums by name or number), on malformed documents of every kind (truncated,
bit-flipped, repeated keys, both spellings, nulls, wrong types, unknown fields,
escapes, deep nesting), and on removed fields of a changed contract. A planted
difference must be found.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any, cast

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ecom_contracts._encoding as encoding
from contracts.descriptors import ContractImage
from contracts.json_decoders import render_json_module
from contracts.pubsub_schema import event_messages
from ecom_contracts import BY_NAME, CONTRACTS, Contract, DecodeError, decode
from ecom_contracts_pb import json_decoders
from tests import strategies
from tests.contract.test_validation_code import load


@pytest.fixture(autouse=True, params=["orjson", "json"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every comparison with orjson (the default where installed) and with json.loads."""
    if request.param == "json":
        monkeypatch.setattr(json_decoders, "_loads", json.loads)
    else:
        import orjson

        assert vars(json_decoders)["_loads"] is orjson.loads
    return str(request.param)


SETTINGS = settings(
    max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


def outcome(decoder: Callable[[], Message]) -> tuple[Any, ...]:
    try:
        event = decoder()
    except DecodeError as error:
        return "error", str(error)
    return "event", event.SerializeToString(deterministic=True), event.ListFields() != []


def assert_agree(text: str, contract: Contract) -> None:
    fast = outcome(lambda: decode(text.encode(), contract, "JSON"))
    oracle = outcome(lambda: encoding.decode_with_json_format(text, contract))
    assert fast == oracle, text


def shaped_json(event: Message, contract: Contract, **options: Any) -> str:
    shaped = contract.pubsub_message.FromString(event.SerializeToString())
    return json_format.MessageToJson(shaped, indent=None, **options)


def _ints_as_numbers(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _ints_as_numbers(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_ints_as_numbers(item) for item in node]
    if isinstance(node, str) and node.lstrip("-").isdigit() and node.isascii():
        return int(node)
    return node


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name.rsplit(".", 1)[-1])
def test_events_written_every_way_decode_as_json_format_decodes_them(contract: Contract):
    @SETTINGS
    @given(
        strategies.messages(cast(Any, contract.message.DESCRIPTOR)), st.booleans(), st.booleans()
    )
    def agree(event: Message, proto_names: bool, enum_numbers: bool) -> None:
        text = shaped_json(
            event,
            contract,
            preserving_proto_field_name=proto_names,
            use_integers_for_enums=enum_numbers,
        )
        assert_agree(text, contract)
        assert_agree(json.dumps(_ints_as_numbers(json.loads(text))), contract)
        assert decode(text.encode(), contract, "JSON") == event

    agree()


def test_the_fast_path_takes_plain_documents():
    generated = 0
    for contract in CONTRACTS:
        for text in _plain_documents(contract):
            assert json_decoders.decode_json(contract.name, text) is not None, text
            generated += 1
    assert generated >= 6


def _plain_documents(contract: Contract) -> list[str]:
    from ops.traffic import TrafficGenerator

    texts = []
    for message in TrafficGenerator(seed=3, bad_share=0.0, json_share=1.0).messages(60):
        if message.attributes["ecom_contract"] == contract.name:
            texts.append(message.data.decode())
    return texts[:3]


MALFORMED = [
    "",
    "{",
    "[]",
    '"text"',
    "1",
    "null",
    "{}",
    '{"eventId": "a", "eventId": "b"}',
    '{"eventId": "a", "event_id": "a"}',
    '{"eventId": null}',
    '{"eventId": 1}',
    '{"eventId": "a\\u003a", "x": 1}',
    '{"eventId": "\\ud800"}',
    '{"eventId": "a"} x',
    '{"noSuchField": 1}',
    '{"status": "NO_SUCH_STATUS"}',
    '{"status": 99}',
    '{"status": 1.0}',
    '{"status": true}',
    '{"status": "2"}',
    '{"eventTimestamp": {"seconds": "1e3"}}',
    '{"eventTimestamp": {"seconds": " 12"}}',
    '{"eventTimestamp": {"seconds": "1_000"}}',
    '{"eventTimestamp": {"seconds": 1.5}}',
    '{"eventTimestamp": {"seconds": 99999999999999999999}}',
    '{"eventTimestamp": {"nanos": "5"}}',
    '{"eventTimestamp": "2025-01-01T00:00:00Z"}',
    '{"quantityChange": 2147483648}',
    '{"quantityChange": NaN}',
    '{"items": {}}',
    '{"items": [null]}',
    '{"items": [{"quantity": "3"}]}',
    '{"customer": []}',
    '{"customer": {"name": "a", "name": "b"}}',
    '{"customer": {"name": "a:b"}, "eventId": "c:d"}',
    '{"eventId" : "a", "eventId": "b"}',
    '{"productId": ""}',
    "{" + '"a": {' * 200 + "}" * 201,
]


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name.rsplit(".", 1)[-1])
@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_documents_fail_or_pass_as_json_format_says(contract: Contract, text: str):
    assert_agree(text, contract)


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name.rsplit(".", 1)[-1])
def test_truncated_and_bit_flipped_documents_agree(contract: Contract):
    texts = _plain_documents(contract)

    @SETTINGS
    @given(st.sampled_from(texts), st.integers(0, 10_000), st.integers(0, 6))
    def agree(text: str, position: int, bit: int) -> None:
        data = text.encode()
        at = position % len(data)
        assert_agree(data[:at].decode("utf-8", "ignore"), contract)
        flipped = bytearray(data)
        flipped[at] ^= 1 << bit
        with contextlib.suppress(UnicodeDecodeError):
            assert_agree(flipped.decode("utf-8"), contract)

    agree()


def test_removed_fields_are_dropped_as_json_format_drops_them(
    image: ContractImage, monkeypatch: pytest.MonkeyPatch
):
    removed = {
        "ecom.events.v1.OrderEvent": [
            [["coupon_code", "couponCode"]],
            [["items"], ["old_sku", "oldSku"]],
        ]
    }
    text, declined = render_json_module(image, event_messages(image), removed)
    assert declined == []
    decoders = load(text)
    monkeypatch.setattr(encoding, "REMOVED_FIELDS", removed)
    monkeypatch.setattr(encoding, "decode_json", decoders["decode_json"])
    order = BY_NAME["ecom.events.v1.OrderEvent"]
    plain = _plain_documents(order)[0]
    document = json.loads(plain)
    document["couponCode"] = {"any": ["thing"]}
    document["items"][0]["old_sku"] = "s-1"
    with_removed = json.dumps(document)
    assert decoders["decode_json"](order.name, with_removed) is not None
    assert_agree(with_removed, order)
    document["items"][0]["coupon_code"] = "not removed here"
    assert decoders["decode_json"](order.name, json.dumps(document)) is None
    assert_agree(json.dumps(document), order)


def test_a_planted_difference_is_found(image: ContractImage):
    text, _ = render_json_module(image, event_messages(image), {})
    planted = text.replace("'INVENTORY_REASON_SALE': 2", "'INVENTORY_REASON_SALE': 3", 1)
    assert planted != text
    decoders = load(planted)
    contract = BY_NAME["ecom.events.v1.InventoryEvent"]

    @SETTINGS
    @given(strategies.messages(cast(Any, contract.message.DESCRIPTOR)))
    def agree(event: Message) -> None:
        text = shaped_json(event, contract)
        fast = decoders["decode_json"](contract.name, text)
        oracle = encoding.decode_with_json_format(text, contract)
        assert fast is None or fast == oracle, text

    with pytest.raises(AssertionError):
        agree()
