"""The generated Pub/Sub schemas are self-contained and wire-identical to their source events,
and the package carries every released revision's definition (to name Pub/Sub revisions by)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any, cast

import pytest
from google.protobuf import descriptor_pb2, unknown_fields
from google.protobuf.message import Message
from hypothesis import given, settings

from contracts import toolchain
from contracts.descriptors import ContractImage
from contracts.pubsub_schema import schema_id
from contracts.registry import Registry, pubsub_definitions
from ecom_contracts_pb.events.v1 import (
    inventory_event_pb2,
    order_event_pb2,
    user_activity_event_pb2,
)
from ecom_contracts_pb.pubsub.v1 import inventory_event_pb2 as pubsub_inventory
from ecom_contracts_pb.pubsub.v1 import order_event_pb2 as pubsub_order
from ecom_contracts_pb.pubsub.v1 import user_activity_event_pb2 as pubsub_user_activity
from ecom_contracts_pb.registry_revisions import PUBSUB_DEFINITIONS
from tests.strategies import messages

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "pubsub_schemas"
PAIRS: list[tuple[type[Message], type[Message]]] = [
    (order_event_pb2.OrderEvent, pubsub_order.OrderEvent),
    (inventory_event_pb2.InventoryEvent, pubsub_inventory.InventoryEvent),
    (user_activity_event_pb2.UserActivityEvent, pubsub_user_activity.UserActivityEvent),
]


def test_one_schema_per_event_family():
    assert sorted(p.name for p in SCHEMAS.glob("*.proto")) == [
        "inventory_event.proto",
        "order_event.proto",
        "user_activity_event.proto",
    ]


@pytest.mark.parametrize("schema", sorted(SCHEMAS.glob("*.proto")), ids=lambda p: p.name)
def test_schema_compiles_standalone(schema: Path, tmp_path: Path):
    # Only the schema's own folder on the include path: any import would fail here.
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(schema, alone / schema.name)
    out = tmp_path / "set.binpb"
    toolchain.protoc([f"-I{alone}", f"--descriptor_set_out={out}", schema.name])
    files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    assert len(files) == 1
    (file,) = files
    assert list(file.dependency) == []
    assert len(file.message_type) == 1
    assert file.enum_type == []
    assert file.service == []
    assert file.extension == []
    assert not file.HasField("options")

    def no_options(message: descriptor_pb2.DescriptorProto) -> None:
        assert not message.HasField("options"), message.name
        for field in message.field:
            assert not field.HasField("options"), f"{message.name}.{field.name}"
        for nested in message.nested_type:
            no_options(nested)
        for enum in message.enum_type:
            assert not enum.HasField("options")

    no_options(file.message_type[0])


@pytest.mark.parametrize(("source", "schema"), PAIRS, ids=lambda c: c.DESCRIPTOR.full_name)
def test_same_fields_as_source(source: type[Message], schema: type[Message]):
    def shape(message: Any) -> list[Any]:  # names, numbers, labels, types, recursively
        return [
            (
                f.name,
                f.number,
                f.is_repeated,
                f.type,
                shape(f.message_type) if f.message_type else None,
                [(v.name, v.number) for v in f.enum_type.values] if f.enum_type else None,
            )
            for f in message.fields
        ]

    assert shape(schema.DESCRIPTOR) == shape(source.DESCRIPTOR)


def _round_trip(source: type[Message], schema: type[Message]):
    @settings(max_examples=150, deadline=None)
    @given(messages(cast(Any, source.DESCRIPTOR)))
    def check(event: Message) -> None:
        wire = event.SerializeToString(deterministic=True)
        as_schema = schema.FromString(wire)
        assert len(unknown_fields.UnknownFieldSet(as_schema)) == 0
        assert as_schema.SerializeToString(deterministic=True) == wire
        back = source.FromString(as_schema.SerializeToString())
        assert back == event

    return check


@pytest.mark.parametrize(("source", "schema"), PAIRS, ids=lambda c: c.DESCRIPTOR.full_name)
def test_round_trip_source_to_schema_and_back(source: type[Message], schema: type[Message]):
    _round_trip(source, schema)()


@pytest.mark.parametrize(("source", "schema"), PAIRS, ids=lambda c: c.DESCRIPTOR.full_name)
def test_round_trip_schema_to_source_and_back(source: type[Message], schema: type[Message]):
    _round_trip(schema, source)()


def test_the_package_carries_each_released_revisions_definition():
    # One release, unchanged since: each contract's r1 is its committed schema file.
    for source, _ in PAIRS:
        name = source.DESCRIPTOR.full_name
        file = SCHEMAS / (schema_id(source.DESCRIPTOR).replace("-", "_") + ".proto")
        assert PUBSUB_DEFINITIONS[name] == {"r1": file.read_text()}


def _with_field(files: descriptor_pb2.FileDescriptorSet, name: str, number: int) -> None:
    (inventory,) = (f for f in files.file if f.name == "ecom/events/v1/inventory_event.proto")
    (event,) = inventory.message_type
    event.field.add(
        name=name,
        number=number,
        json_name=name,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )


def test_every_released_revision_and_the_unreleased_one_are_rendered_oldest_first(
    tmp_path: Path,
):
    released = Registry.load(ROOT / "registry")
    first = (ROOT / "registry" / released.releases[0].image).read_bytes()
    registry = Registry(tmp_path / "registry")
    registry.release(first, released.image(released.releases[0]), dt.date(2026, 1, 1))
    files = descriptor_pb2.FileDescriptorSet.FromString(first)
    own = frozenset(f.name for f in files.file if f.name.startswith("ecom/"))
    _with_field(files, "coupon", 8)  # release 2 changes InventoryEvent only
    registry.release(files.SerializeToString(), ContractImage(files, own), dt.date(2026, 2, 1))
    _with_field(files, "note", 9)  # and the working tree changes it again
    found = pubsub_definitions(registry, ContractImage(files, own))

    inventory = found["ecom.events.v1.InventoryEvent"]
    assert list(inventory) == ["r1", "r2", "r2+dev"]
    assert "coupon" not in inventory["r1"]
    assert "string coupon = 8;" in inventory["r2"]
    assert "note" not in inventory["r2"]
    assert "string note = 9;" in inventory["r2+dev"]
    assert list(found["ecom.events.v1.OrderEvent"]) == ["r1"]  # unchanged: one revision
    assert (
        found["ecom.events.v1.OrderEvent"]["r1"]
        == PUBSUB_DEFINITIONS["ecom.events.v1.OrderEvent"]["r1"]
    )
