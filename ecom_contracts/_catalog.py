"""The event contracts of this release: their classes, Pub/Sub schemas, topics and names."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

from google.protobuf.message import Message

from ecom.events.v1 import inventory_event_pb2, order_event_pb2, user_activity_event_pb2
from ecom.pubsub.v1 import inventory_event_pb2 as pubsub_inventory
from ecom.pubsub.v1 import order_event_pb2 as pubsub_order
from ecom.pubsub.v1 import user_activity_event_pb2 as pubsub_user_activity
from ecom.registry_revisions import SCHEMA_IDS
from ecom_contracts._errors import UnknownContractError
from ecom_contracts._versions import revision


@dataclass(frozen=True)
class Contract:
    """One event contract: its message class and the Pub/Sub schema it travels as."""

    message: type[Message]
    """The generated class of the source contract (``ecom.events.v1.*``)."""
    pubsub_message: type[Message]
    """The generated class of the self-contained Pub/Sub schema: the JSON encoding's shape."""

    @functools.cached_property
    def name(self) -> str:
        """Full name of the contract, for example ``ecom.events.v1.OrderEvent``."""
        return str(self.message.DESCRIPTOR.full_name)

    @functools.cached_property
    def schema_id(self) -> str:
        """Id of its Pub/Sub schema resource, for example ``order-event`` (as generated)."""
        return SCHEMA_IDS[self.name]

    @property
    def topic_id(self) -> str:
        """Id of its Pub/Sub topic, for example ``order-events``."""
        return f"{self.schema_id}s"

    @property
    def subscription_id(self) -> str:
        """Id of the pipeline's subscription to its topic, for example ``order-events-pipeline``."""
        return f"{self.topic_id}-pipeline"

    @property
    def revision(self) -> str:
        """Registry revision of this contract in this build, for example ``r1``."""
        return revision(self.name)


CONTRACTS: Final[tuple[Contract, ...]] = (
    Contract(order_event_pb2.OrderEvent, pubsub_order.OrderEvent),
    Contract(inventory_event_pb2.InventoryEvent, pubsub_inventory.InventoryEvent),
    Contract(user_activity_event_pb2.UserActivityEvent, pubsub_user_activity.UserActivityEvent),
)
BY_NAME: Final = {contract.name: contract for contract in CONTRACTS}
BY_SCHEMA_ID: Final = {contract.schema_id: contract for contract in CONTRACTS}
_ALIASES: Final = {
    alias: contract
    for contract in CONTRACTS
    for alias in (
        contract.name,
        contract.schema_id,
        contract.topic_id,
        contract.message.DESCRIPTOR.name,
    )
}


def contract(name: str) -> Contract:
    """Return the contract ``name`` names.

    Any of its names will do: ``order-event`` (the Pub/Sub schema id),
    ``order-events`` (the topic id), ``OrderEvent`` or ``ecom.events.v1.OrderEvent``.
    Raises UnknownContractError listing the known ones.
    """
    found = _ALIASES.get(name)
    if found is None:
        known = ", ".join(c.schema_id for c in CONTRACTS)
        raise UnknownContractError(f"unknown contract {name!r}; known: {known}")
    return found


def contract_of(event: Message) -> Contract:
    """Return the contract of ``event``; raises UnknownContractError for any other message."""
    found = BY_NAME.get(event.DESCRIPTOR.full_name)
    if found is None:
        raise UnknownContractError(
            f"{event.DESCRIPTOR.full_name} is not an event contract of this release"
        )
    return found
