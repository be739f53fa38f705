"""The event contracts of this release by any of their names, over the generated catalogue.

``make proto`` renders the contracts themselves (names, revision, classes)
into ``ecom_contracts_pb.catalog``; this module only looks them up. A contract
is generic in its class, so what :func:`contract` returns for a literal name,
and what ``decode`` returns for it, type-check as that contract's class
(``contract("order-event").message`` is ``OrderEvent``).
"""

from __future__ import annotations

from typing import Final, TypeAlias, TypeVar, cast

from google.protobuf.message import Message

from ecom_contracts._errors import UnknownContractError
from ecom_contracts_pb.catalog import EVENT_CONTRACTS, ContractLookup, EventContract

Contract: TypeAlias = EventContract[Message]
"""One event contract: ``name``, ``schema_id``, ``topic_id``, ``revision``, ``message``,
``pubsub_message`` and ``pii_fields`` (the generated
``ecom_contracts_pb.catalog.EventContract``)."""
EventT = TypeVar("EventT", bound=Message)

CONTRACTS: Final[tuple[Contract, ...]] = EVENT_CONTRACTS
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


def _contract(name: str) -> Contract:
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


contract: Final = cast(ContractLookup, _contract)
"""Return the contract a name names (see ``_contract``), typed by the literal name."""


def contract_of(event: EventT) -> EventContract[EventT]:
    """Return the contract of ``event``; raises UnknownContractError for any other message."""
    found = BY_NAME.get(event.DESCRIPTOR.full_name)
    if found is None:
        raise UnknownContractError(
            f"{event.DESCRIPTOR.full_name} is not an event contract of this release"
        )
    return cast(EventContract[EventT], found)
