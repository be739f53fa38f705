"""The producers' package: its public surface, its release, its names, its encoding.

And the pipeline's side of it: one copy of the contract code, and the revision
a producer sends counted per revision.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import get_origin

import pytest
from google.protobuf import text_format
from packaging.requirements import Requirement

import ecom_contracts
import pipeline.catalog
import pipeline.errors
import pipeline.validate
from contracts.pubsub_schema import schema_id, topic_id
from ecom_contracts_pb.catalog import EVENT_CONTRACTS, EventContract
from ecom_contracts_pb.events.v1 import inventory_event_pb2
from ecom_contracts_pb.registry_revisions import CONTRACT_REVISIONS
from ecom_ingest_pb.warehouse.v1 import fact_inventory_pb2
from pipeline.decode import decode as pipeline_decode
from pipeline.errors import DataError, MalformedPayloadError, RuleViolationError
from pipeline.record import PubsubRecord
from pipeline.route import route

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "contract" / "cases"


def _inventory() -> inventory_event_pb2.InventoryEvent:
    return text_format.Parse(
        (CASES / "inventory_event" / "valid_restock.textproto").read_text(),
        inventory_event_pb2.InventoryEvent(),
    )


def test_all_names_the_public_surface():
    public = {name for name in vars(ecom_contracts) if not name.startswith("_")}
    assert set(ecom_contracts.__all__) == public


def test_the_version_is_the_registry_release_and_the_pipeline_pins_it():
    index = json.loads((ROOT / "registry" / "index.json").read_text())
    latest = max(release["number"] for release in index["releases"])
    producer = tomllib.loads((ROOT / "producer" / "pyproject.toml").read_text())["project"]
    pipeline = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    hint = "run `python -m contracts stamp` (make release-contracts does), then make venv"
    assert int(producer["version"].split(".")[0]) == latest, hint
    assert f"ecom-contracts=={producer['version']}" in pipeline["dependencies"], hint
    assert ecom_contracts.VERSION == ecom_contracts.__version__ == producer["version"], hint
    assert latest == ecom_contracts.RELEASE


def test_the_producers_dependencies_are_ranges_holding_the_pipelines_pins_without_beam():
    producer = tomllib.loads((ROOT / "producer" / "pyproject.toml").read_text())["project"]
    pipeline = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    commands = tomllib.loads((ROOT / "commands" / "pyproject.toml").read_text())["project"]
    pins = {
        Requirement(pin).name: Requirement(pin).specifier
        for pin in [*pipeline["dependencies"], *commands["dependencies"]]
    }
    required = {Requirement(d).name: Requirement(d).specifier for d in producer["dependencies"]}
    assert set(required) == {"protobuf", "protovalidate"}
    # The Pub/Sub client only for publishing: validation in a producer's CI needs none.
    extras = producer["optional-dependencies"]
    assert set(extras) == {"publish"}
    publishing = {Requirement(d).name: Requirement(d).specifier for d in extras["publish"]}
    assert set(publishing) == {"google-cloud-pubsub"}
    required.update(publishing)
    for name, allowed in required.items():
        (pinned,) = (spec.version for spec in pins[name])
        assert allowed.contains(pinned), f"{name}: {allowed} excludes the tested {pinned}"
        assert not allowed.contains(f"{int(pinned.split('.')[0]) + 1}.0.0"), name


def test_each_contract_answers_to_all_its_names():
    order = ecom_contracts.BY_NAME["ecom.events.v1.OrderEvent"]
    for name in ("order-event", "order-events", "OrderEvent", "ecom.events.v1.OrderEvent"):
        assert ecom_contracts.contract(name) is order
    known = r"known: inventory-event, order-event, user-activity-event$"
    with pytest.raises(ecom_contracts.UnknownContractError, match=known):
        ecom_contracts.contract("refund-event")
    with pytest.raises(ecom_contracts.UnknownContractError, match="not an event contract"):
        ecom_contracts.contract_of(fact_inventory_pb2.FactInventory())


def test_the_catalogue_is_generated_with_the_generators_names_and_the_registrys_revisions():
    assert ecom_contracts.CONTRACTS is EVENT_CONTRACTS
    assert get_origin(ecom_contracts.Contract) is EventContract
    assert [c.name for c in EVENT_CONTRACTS] == sorted(
        name for name in CONTRACT_REVISIONS if name.startswith("ecom.events.")
    )
    for known in ecom_contracts.CONTRACTS:
        assert known.message.DESCRIPTOR.full_name == known.name
        pubsub_name = f"ecom.pubsub.v1.{known.message.DESCRIPTOR.name}"
        assert known.pubsub_message.DESCRIPTOR.full_name == pubsub_name
        assert known.schema_id == schema_id(known.message.DESCRIPTOR)
        assert known.topic_id == topic_id(known.message.DESCRIPTOR)
        assert (
            known.revision == CONTRACT_REVISIONS[known.name] == ecom_contracts.revision(known.name)
        )


def test_the_pipeline_uses_the_producers_contract_code():
    assert pipeline.catalog.CONTRACTS is ecom_contracts.CONTRACTS
    assert pipeline.validate.collect_violations is ecom_contracts.collect_violations


@pytest.mark.parametrize("encoding", ["BINARY", "JSON", "json"])
def test_encode_sets_the_attributes_the_pipeline_routes_and_decodes_by(encoding: str):
    event = _inventory()
    data, attributes = ecom_contracts.encode(event, encoding)
    assert attributes == {
        "ecom_contract": "ecom.events.v1.InventoryEvent",
        "ecom_encoding": encoding.upper(),
        "ecom_revision": "r1",
    }
    routed = route(PubsubRecord(data, attributes))
    assert pipeline_decode(data, routed) == event
    assert ecom_contracts.decode(data, routed.contract, routed.encoding) == event
    assert routed.published_as == "r1"


def test_encode_refuses_invalid_events_and_unknown_encodings():
    event = _inventory()
    event.quantity_change = -5  # a restock that removes stock
    with pytest.raises(ecom_contracts.InvalidEventError) as refused:
        ecom_contracts.encode(event)
    assert [(v.field_path, v.rule_id) for v in refused.value.violations] == [
        ("", "inventory.quantity_sign")
    ]
    assert ecom_contracts.encode(event, validate=False).data == event.SerializeToString()
    with pytest.raises(ecom_contracts.EncodingError, match="not 'AVRO'"):
        ecom_contracts.encode(_inventory(), "AVRO")


def test_decode_errors_are_the_pipelines():
    contract = ecom_contracts.contract("inventory-event")
    with pytest.raises(ecom_contracts.DecodeError) as producers:
        ecom_contracts.decode(b'{"eventId": 1', contract, "JSON")
    with pytest.raises(MalformedPayloadError) as pipelines:
        pipeline_decode(
            b'{"eventId": 1', route(PubsubRecord(b"", {"ecom_encoding": "JSON"}), contract.name)
        )
    assert str(producers.value) == str(pipelines.value)
    assert isinstance(pipelines.value.__cause__, ecom_contracts.DecodeError)


def test_the_pipelines_data_errors_wrap_the_producers_errors_never_inherit_them():
    producers = {
        name: cls
        for name, cls in vars(ecom_contracts).items()
        if isinstance(cls, type) and issubclass(cls, Exception)
    }
    pipelines = {
        name: cls
        for name, cls in vars(pipeline.errors).items()
        if isinstance(cls, type) and issubclass(cls, DataError)
    }
    assert not set(producers) & set(pipelines)  # one name per concept
    for cls in pipelines.values():
        assert not any(issubclass(cls, theirs) for theirs in producers.values()), cls
    refused = ecom_contracts.InvalidEventError([])
    wrapped = RuleViolationError(refused)
    assert wrapped.__cause__ is refused
    assert wrapped.violations == refused.violations
    assert str(wrapped) == str(refused)


@pytest.mark.parametrize(
    ("sent", "counted"),
    [("r1", "r1"), ("r12+dev", "r12+dev"), ("", ""), ("v1; DROP TABLE", "other")],
)
def test_the_pipeline_reports_the_revision_a_producer_sent(sent: str, counted: str):
    attributes = {"ecom_contract": "ecom.events.v1.InventoryEvent"}
    if sent:
        attributes["ecom_revision"] = sent
    assert route(PubsubRecord(b"", attributes)).published_as == counted


def test_counters_say_who_still_sends_an_old_revision():
    import apache_beam as beam
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.testing.test_pipeline import TestPipeline

    from pipeline.transforms import ProcessMessages

    data, attributes = ecom_contracts.encode(_inventory())
    old = {**attributes, "ecom_revision": "r0"}
    pipeline = TestPipeline()
    records = [PubsubRecord(data, attributes, "m1"), PubsubRecord(data, old, "m2")]
    _ = (pipeline | beam.Create(records) | ProcessMessages()).rows
    outcome = pipeline.run()
    outcome.wait_until_finish()
    counters = {
        c.key.metric.name: c.committed
        for c in outcome.metrics().query(MetricsFilter().with_namespace("ecom"))["counters"]
    }
    assert counters["InventoryEvent.published_as.r1"] == 1
    assert counters["InventoryEvent.published_as.r0"] == 1
    # The revision a message carries is the one it is reported as (pipeline.revisions).
    assert counters["InventoryEvent.decoded_as.r1"] == 1
    assert counters["InventoryEvent.decoded_as.r0"] == 1


class _Definitions:
    """Schema revisions by name; one that is not there cannot be read."""

    def __init__(self, **by_name: str) -> None:
        self.by_name = by_name
        self.read: list[str] = []

    def definition(self, revision: str) -> str:
        self.read.append(revision)
        if revision not in self.by_name:
            raise ecom_contracts.SchemaLookupError(f"{revision}: NotFound")
        return self.by_name[revision]


def test_the_publisher_names_the_topics_newest_revision_by_its_definition(
    monkeypatch: pytest.MonkeyPatch,
):
    from ecom_contracts_pb import registry_revisions

    contract = "ecom.events.v1.InventoryEvent"
    r1 = registry_revisions.PUBSUB_DEFINITIONS[contract]["r1"]
    r2 = r1.replace("  optional string order_id = 7;\n", "  optional string order_id = 7;\n"
                    "  optional string coupon = 8;\n")  # fmt: skip
    schema = "projects/shop-staging/schemas/inventory-event"
    settings = ecom_contracts.TopicSettings("BINARY", schema, "aaa", "bbb")
    # The topic's newest is this build's revision, laid out differently: nothing to say.
    same = _Definitions(**{f"{schema}@bbb": "\n\n".join(x.strip() for x in r1.splitlines())})
    assert settings.revision_note(contract, same) == ""
    assert same.read == [f"{schema}@bbb"]
    # A revision this package does not know (a newer release).
    note = settings.revision_note(contract, _Definitions(**{f"{schema}@bbb": r2}))
    assert note.startswith("the topic's newest accepted schema revision is none this package")
    assert "built from r1" in note
    # One a release this package carries describes.
    monkeypatch.setitem(registry_revisions.PUBSUB_DEFINITIONS, contract, {"r1": r1, "r2": r2})
    note = settings.revision_note(contract, _Definitions(**{f"{schema}@bbb": r2}))
    assert note.startswith("the topic's newest accepted schema revision is registry r2; ")
    # Not readable: said, not raised.
    note = settings.revision_note(contract, _Definitions())
    assert note.startswith("the topic's newest schema revision could not be read (")
    assert "is not checked" in note
    # No schema, or an open range (the schema's newest revision is read).
    assert ecom_contracts.TopicSettings("BINARY").revision_note(contract, _Definitions()) == ""
    open_ended = _Definitions(**{schema: r1})
    assert ecom_contracts.TopicSettings("JSON", schema).revision_note(contract, open_ended) == ""
    assert open_ended.read == [schema]
