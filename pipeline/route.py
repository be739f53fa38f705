"""Stage 2, route: map a message to its contract and encoding."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ecom.registry_revisions import CONTRACT_REVISIONS, PUBSUB_REVISIONS
from ecom_contracts import (
    CONTRACT_ATTRIBUTE,
    ENCODING_ATTRIBUTE,
    ENCODINGS,
    REVISION_ATTRIBUTE,
    SCHEMA_ENCODING_ATTRIBUTE,
    SCHEMA_NAME_ATTRIBUTE,
    SCHEMA_REVISION_ATTRIBUTE,
)
from pipeline.catalog import BY_NAME, BY_SCHEMA_ID, Contract
from pipeline.errors import UnknownEventError
from pipeline.record import PubsubRecord

# The attributes a message is routed by, as the producers' package names them: Pub/Sub's
# (when the topic has a schema) first, else those its publisher sets on every message.
SCHEMA_NAME: Final = SCHEMA_NAME_ATTRIBUTE
SCHEMA_ENCODING: Final = SCHEMA_ENCODING_ATTRIBUTE
SCHEMA_REVISION: Final = SCHEMA_REVISION_ATTRIBUTE
CONTRACT: Final = CONTRACT_ATTRIBUTE
ENCODING: Final = ENCODING_ATTRIBUTE
REVISION: Final = REVISION_ATTRIBUTE
_REVISION_LABEL: Final = re.compile(r"r[0-9]{1,6}(\+dev)?")


@dataclass(frozen=True)
class Route:
    """Where a message goes: its contract, its encoding, and the registry revision it is decoded as.

    The revision is the one Pub/Sub's ``googclient_schemarevisionid`` maps to in
    the registry, else the revision of the contract this pipeline was built from.
    """

    contract: Contract
    encoding: str
    revision: str = ""
    published_as: str = ""
    """The revision the producer says it was built against (its ``ecom_revision`` attribute):
    ``r1``, ``r2+dev``..., ``other`` for a value of another form, empty when absent."""


_ROUTES: dict[tuple[str | None, ...], Route] = {}
_ROUTES_HELD: Final = 10_000
"""At most this many distinct attribute combinations keep their route (producers set them)."""


def route(record: PubsubRecord, default_contract: str = "") -> Route:
    """Return the route of ``record`` (see :func:`route_of`), remembered per attribute values."""
    attributes = record.attributes
    key = (
        attributes.get(SCHEMA_NAME),
        attributes.get(SCHEMA_ENCODING),
        attributes.get(SCHEMA_REVISION),
        attributes.get(CONTRACT),
        attributes.get(ENCODING),
        attributes.get(REVISION),
        record.default_contract or default_contract,
    )
    found = _ROUTES.get(key)
    if found is None:
        found = route_of(attributes, record.default_contract or default_contract)
        if len(_ROUTES) < _ROUTES_HELD:
            _ROUTES[key] = found
    return found


def route_of(attributes: Mapping[str, str], default_contract: str = "") -> Route:
    """Return the route of a message with ``attributes``, in order of authority.

    1. Pub/Sub's schema attributes (``googclient_schemaname`` ends in the schema id);
    2. the publisher's ``ecom_contract`` attribute (a contract's full name);
    3. ``default_contract``: the contract of the subscription the message was
       read from (``record.default_contract``), else ``--default_contract``.

    The encoding comes from ``googclient_schemaencoding`` or ``ecom_encoding``
    (default BINARY). The producer's ``ecom_revision`` attribute is reported as
    ``published_as`` (counted per revision: who still sends old revisions). Raises
    UnknownEventError naming what was looked for.
    """
    schema_name = attributes.get(SCHEMA_NAME)
    if schema_name is not None:
        schema_id = schema_name.rsplit("/", 1)[-1]
        contract = BY_SCHEMA_ID.get(schema_id)
        if contract is None:
            raise UnknownEventError(f"Pub/Sub schema {schema_name!r} maps to no known contract")
        encoding = attributes.get(SCHEMA_ENCODING, "BINARY")
        pubsub_revision = attributes.get(SCHEMA_REVISION, "")
        revision = PUBSUB_REVISIONS.get(schema_id, {}).get(pubsub_revision, "")
        if not revision:
            revision = CONTRACT_REVISIONS.get(contract.name, "")
            if pubsub_revision:
                revision += f" (Pub/Sub revision {pubsub_revision})"
    else:
        named = attributes.get(CONTRACT) or default_contract
        if not named:
            raise UnknownEventError(
                f"no {SCHEMA_NAME} or {CONTRACT} attribute and no default contract configured"
            )
        contract = BY_NAME.get(named)
        if contract is None:
            raise UnknownEventError(f"contract {named!r} is not a known contract")
        encoding = attributes.get(ENCODING, "BINARY")
        revision = CONTRACT_REVISIONS.get(contract.name, "")
    encoding = encoding.upper()
    if encoding not in ENCODINGS:
        raise UnknownEventError(f"encoding {encoding!r} is neither BINARY nor JSON")
    published_as = attributes.get(REVISION, "")
    if published_as and not _REVISION_LABEL.fullmatch(published_as):
        published_as = "other"  # a counter label: never an unbounded set of values
    return Route(contract, encoding, revision, published_as)
