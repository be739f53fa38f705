"""Stage 2, route: map a message to its contract, its encoding and its registry revision."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ecom_contracts import (
    CONTRACT_ATTRIBUTE,
    ENCODING_ATTRIBUTE,
    ENCODINGS,
    REVISION_ATTRIBUTE,
    SCHEMA_ENCODING_ATTRIBUTE,
    SCHEMA_NAME_ATTRIBUTE,
    SCHEMA_REVISION_ATTRIBUTE,
)
from ecom_contracts_pb.registry_revisions import CONTRACT_REVISIONS
from pipeline import revisions
from pipeline.catalog import BY_NAME, BY_SCHEMA_ID, Contract
from pipeline.errors import UnknownEventError
from pipeline.record import PubsubRecord
from pipeline.revisions import RevisionResolver

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
    """Where a message goes: its contract, its encoding, and the registry revision it carries.

    The revision is named from what the message carries (``pipeline.revisions``):
    its ``ecom_revision``, else its Pub/Sub schema revision's definition, else
    the revision of the contract this pipeline was built from. ``unknown (...)``
    when the schema revision cannot be read or matches no release.
    """

    contract: Contract
    encoding: str
    revision: str = ""
    published_as: str = ""
    """The revision the producer says it was built against (its ``ecom_revision`` attribute):
    ``r1``, ``r2+dev``..., ``other`` for a value of another form, empty when absent."""
    schema_revision: str = ""
    """The Pub/Sub schema revision (``projects/P/schemas/S@ID``) that names ``revision``,
    for a message with Pub/Sub's schema attributes and no ``ecom_revision``."""
    revision_lookup_failed: bool = False
    """The schema revision could not be read: ``revision`` is ``unknown`` (counted)."""


_ROUTES: dict[tuple[str | None, ...], Route] = {}
_ROUTES_HELD: Final = 10_000
"""At most this many distinct attribute combinations keep their route (producers set them)."""


def route(
    record: PubsubRecord, default_contract: str = "", resolver: RevisionResolver | None = None
) -> Route:
    """Return the route of ``record`` (see :func:`route_of`), remembered per attribute values.

    A schema revision's registry revision is remembered by ``resolver``
    (default: the process's, ``pipeline.revisions.RESOLVER``), which reads it
    again later when it could not be read.
    """
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
        found = _route(attributes, record.default_contract or default_contract)
        if len(_ROUTES) < _ROUTES_HELD:
            _ROUTES[key] = found
    return _named(found, resolver)


def route_of(
    attributes: Mapping[str, str],
    default_contract: str = "",
    resolver: RevisionResolver | None = None,
) -> Route:
    """Return the route of a message with ``attributes``, in order of authority.

    1. Pub/Sub's schema attributes (``googclient_schemaname`` ends in the schema id);
    2. the publisher's ``ecom_contract`` attribute (a contract's full name);
    3. ``default_contract``: the contract of the subscription the message was
       read from (``record.default_contract``), else ``--default_contract``.

    The encoding comes from ``googclient_schemaencoding`` or ``ecom_encoding``
    (default BINARY). The registry revision is named as ``pipeline.revisions``
    says (``resolver`` reads schema revisions). The producer's ``ecom_revision``
    attribute is also reported as ``published_as`` (counted per revision: who
    still sends old revisions). Raises UnknownEventError naming what was looked for.
    """
    return _named(_route(attributes, default_contract), resolver)


def _named(found: Route, resolver: RevisionResolver | None) -> Route:
    """Return ``found`` with the registry revision its schema revision names, when it needs one."""
    if not found.schema_revision:
        return found
    named = (resolver or revisions.RESOLVER).resolve(found.contract.name, found.schema_revision)
    return dataclasses.replace(
        found, revision=named.revision, revision_lookup_failed=named.lookup_failed
    )


def _route(attributes: Mapping[str, str], default_contract: str) -> Route:
    """Return the route of ``attributes``; a schema revision still to be named is left in it."""
    schema_name = attributes.get(SCHEMA_NAME)
    if schema_name is not None:
        schema_id = schema_name.rsplit("/", 1)[-1]
        contract = BY_SCHEMA_ID.get(schema_id)
        if contract is None:
            raise UnknownEventError(f"Pub/Sub schema {schema_name!r} maps to no known contract")
        encoding = attributes.get(SCHEMA_ENCODING, "BINARY")
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
    encoding = encoding.upper()
    if encoding not in ENCODINGS:
        raise UnknownEventError(f"encoding {encoding!r} is neither BINARY nor JSON")
    published_as = attributes.get(REVISION, "")
    if published_as and not _REVISION_LABEL.fullmatch(published_as):
        published_as = "other"  # a counter label: never an unbounded set of values
    pubsub_revision = attributes.get(SCHEMA_REVISION, "")
    if published_as and published_as != "other":
        return Route(contract, encoding, published_as, published_as)
    if schema_name is not None and pubsub_revision:
        schema_revision = f"{schema_name}@{pubsub_revision}"
        return Route(contract, encoding, "", published_as, schema_revision)
    return Route(contract, encoding, CONTRACT_REVISIONS.get(contract.name, ""), published_as)
