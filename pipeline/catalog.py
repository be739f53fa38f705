"""The known event contracts: what a message can be routed to and how it is decoded."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

from google.protobuf.message import Message

from contracts.pubsub_schema import schema_id
from ecom.events.v1 import inventory_event_pb2, order_event_pb2, user_activity_event_pb2
from ecom.pubsub.v1 import inventory_event_pb2 as pubsub_inventory
from ecom.pubsub.v1 import order_event_pb2 as pubsub_order
from ecom.pubsub.v1 import user_activity_event_pb2 as pubsub_user_activity


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
        """Id of its Pub/Sub schema resource, for example ``order-event``."""
        return schema_id(self.message.DESCRIPTOR)

    @property
    def topic_id(self) -> str:
        """Id of its Pub/Sub topic, for example ``order-events``."""
        return f"{self.schema_id}s"

    @property
    def subscription_id(self) -> str:
        """Id of the pipeline's subscription to its topic, for example ``order-events-pipeline``."""
        return f"{self.topic_id}-pipeline"


CONTRACTS: Final[tuple[Contract, ...]] = (
    Contract(order_event_pb2.OrderEvent, pubsub_order.OrderEvent),
    Contract(inventory_event_pb2.InventoryEvent, pubsub_inventory.InventoryEvent),
    Contract(user_activity_event_pb2.UserActivityEvent, pubsub_user_activity.UserActivityEvent),
)
BY_NAME: Final = {contract.name: contract for contract in CONTRACTS}
BY_SCHEMA_ID: Final = {contract.schema_id: contract for contract in CONTRACTS}
