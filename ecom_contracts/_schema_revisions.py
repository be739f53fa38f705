"""Which registry revision a Pub/Sub schema revision is: its definition, matched by meaning.

Pub/Sub names a schema revision by an id of its own, different in every
project (staging and production commit the same definition under different
ids), so no file can map ids to registry revisions. A revision's definition
can be read, though, and this package carries the Pub/Sub schema definition
of every released revision of each contract (``PUBSUB_DEFINITIONS``, rendered
by ``make proto``): the registry revision of a Pub/Sub revision is the one
whose definition has the same meaning. Meaning is the definition's tokens
without its comments and layout; the infrastructure command commits a new
Pub/Sub revision only when that changes, by the same comparison.

Reading a revision is behind a small interface, :class:`SchemaDefinitions`
(one method), so callers can hand in another source; :class:`PubsubSchemaDefinitions`
reads Pub/Sub (or the emulator, when ``PUBSUB_EMULATOR_HOST`` is set).
"""

from __future__ import annotations

import re
from typing import Any, Final, Protocol

from ecom_contracts._errors import SchemaLookupError
from ecom_contracts_pb.registry_revisions import PUBSUB_DEFINITIONS

_TOKEN: Final = re.compile(
    r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|//[^\n]*|/\*.*?\*/|\w+|\S', re.S
)
_LABEL: Final = re.compile(r"r([0-9]+)(\+dev)?")


def definition_tokens(definition: str) -> list[str]:
    """Return the tokens of a ``.proto`` definition without its comments and layout."""
    return [t for t in _TOKEN.findall(definition) if not t.startswith(("//", "/*"))]


def same_meaning(first: str, second: str) -> bool:
    """Return whether two schema definitions differ at most in comments and whitespace."""
    return definition_tokens(first) == definition_tokens(second)


def _oldest_first(label: str) -> tuple[int, bool]:
    found = _LABEL.fullmatch(label)
    return (int(found.group(1)), bool(found.group(2))) if found else (1 << 30, True)


def registry_revision_of(
    contract: str,
    definition: str,
    definitions: dict[str, dict[str, str]] | None = None,
) -> str:
    """Return the registry revision of ``contract`` whose Pub/Sub definition is ``definition``.

    The same text first; else the oldest revision of the same meaning (a
    later release that changed only comments committed no Pub/Sub revision,
    so the Pub/Sub revision is the older one's). Empty when none matches: a
    revision newer than this package, or one committed by hand. ``definitions``
    defaults to the package's own (``ecom_contracts_pb.registry_revisions.PUBSUB_DEFINITIONS``).
    """
    known = (PUBSUB_DEFINITIONS if definitions is None else definitions).get(contract, {})
    ordered = sorted(known.items(), key=lambda item: _oldest_first(item[0]))
    for label, text in ordered:
        if text == definition:
            return label
    tokens = definition_tokens(definition)
    for label, text in ordered:
        if definition_tokens(text) == tokens:
            return label
    return ""


class SchemaDefinitions(Protocol):
    """Where schema revisions are read from: Pub/Sub, or a stand-in handed in by a caller."""

    def definition(self, revision: str) -> str:
        """Return the definition of a schema revision; raise SchemaLookupError if unreadable.

        ``revision`` is ``projects/P/schemas/S@ID``, or ``projects/P/schemas/S``
        for the newest.
        """
        ...


class PubsubSchemaDefinitions:
    """Schema revisions read from Pub/Sub with ``SchemaServiceClient.get_schema`` (FULL view).

    The client is created on the first read, so a process without credentials
    fails that read (SchemaLookupError), not its start. The library sends it
    to the emulator when ``PUBSUB_EMULATOR_HOST`` is set. One attempt per
    read, bounded by ``timeout`` seconds: callers decide when to read again.
    """

    def __init__(self, client: Any = None, timeout: float = 10.0) -> None:
        self._client = client
        self.timeout = timeout

    def definition(self, revision: str) -> str:
        """Return the definition of ``revision``; raise SchemaLookupError when it cannot be read."""
        from google.api_core import exceptions
        from google.auth import exceptions as auth_exceptions
        from google.pubsub_v1 import types as pubsub

        try:
            if self._client is None:
                from google.cloud import pubsub_v1  # type: ignore[attr-defined]

                self._client = pubsub_v1.SchemaServiceClient()
            schema = self._client.get_schema(
                request=pubsub.GetSchemaRequest(name=revision, view=pubsub.SchemaView.FULL),
                retry=None,
                timeout=self.timeout,
            )
        except (exceptions.GoogleAPIError, auth_exceptions.GoogleAuthError) as error:
            raise SchemaLookupError(f"{revision}: {type(error).__name__}: {error}") from error
        return str(schema.definition)
