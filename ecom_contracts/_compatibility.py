"""Would a topic take this package's events? The check a producer's CI runs before a deploy.

A topic bound to a schema accepts a range of its revisions (its schema
settings' first to last revision); Pub/Sub refuses a message that none of
them describes. This package was built from one registry revision of each
contract (``r1``; ``r2+dev`` from unreleased changes) and carries the Pub/Sub
definition of every released one, so the revisions a topic accepts are named
the way the pipeline names them: by their definitions' meaning
(:func:`registry_revision_of`). Without the topic's settings (no ``--topic``,
or no right to read them) the package's own registry release is the answer:
a released revision is what the deployment of that release puts on the topic,
an unreleased one is on no topic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from ecom_contracts._catalog import Contract
from ecom_contracts._errors import SchemaLookupError
from ecom_contracts._schema_revisions import registry_revision_of, same_meaning
from ecom_contracts._topics import TopicSettings, read_topic_settings
from ecom_contracts._versions import RELEASE
from ecom_contracts_pb.registry_revisions import PUBSUB_DEFINITIONS

_NUMBER: Final = re.compile(r"r([0-9]+)")


@dataclass(frozen=True)
class Compatibility:
    """The answer: whether the topic (or the release) accepts the revision, and why."""

    accepted: bool
    reason: str


def against_release(contract: Contract) -> Compatibility:
    """Judge ``contract``'s revision in this package by the registry release it was built from."""
    built = contract.revision
    if not built or built.endswith("+dev"):
        return Compatibility(
            False,
            f"{contract.name} {built or '(no revision)'} was built from unreleased contract "
            "changes: no topic deployed from a registry release accepts its new fields; use a "
            "released ecom-contracts",
        )
    return Compatibility(
        True,
        f"{contract.name} {built} is in registry release {RELEASE}: topics deployed from "
        f"release {RELEASE} or later accept it (the topic itself was not read)",
    )


def accepted_ids(ids: Sequence[str], first: str, last: str) -> list[str]:
    """Return the revision ids a topic accepts: ``first`` to ``last`` (empty: open-ended)."""
    start = ids.index(first) if first in ids else 0
    end = ids.index(last) if last in ids else len(ids) - 1
    return list(ids[start : end + 1])


def _number(label: str) -> int | None:
    found = _NUMBER.match(label)
    return int(found.group(1)) if found else None


def against_topic(
    contract: Contract, topic: str, settings: TopicSettings, revisions: Sequence[tuple[str, str]]
) -> Compatibility:
    """Judge ``contract``'s revision against what ``topic`` accepts.

    ``revisions`` are the topic schema's revisions, ``(revision id, definition)``,
    oldest first.
    """
    built = contract.revision
    if not settings.schema:
        return Compatibility(
            True,
            f"{topic} has no schema: Pub/Sub takes any message (the pipeline checks it "
            f"against {contract.name})",
        )
    schema_id = settings.schema.rsplit("/", 1)[-1]
    if schema_id != contract.schema_id:
        return Compatibility(
            False, f"{topic} carries schema {schema_id}, not {contract.schema_id}: another contract"
        )
    definitions = dict(revisions)
    accepted = accepted_ids(
        [revision_id for revision_id, _ in revisions],
        settings.first_revision_id,
        settings.last_revision_id,
    )
    labels = [registry_revision_of(contract.name, definitions[i]) or "unknown" for i in accepted]
    named = ", ".join(
        f"{label} (Pub/Sub revision {i})" for label, i in zip(labels, accepted, strict=True)
    )
    own = PUBSUB_DEFINITIONS.get(contract.name, {}).get(built, "")
    if own and any(same_meaning(definitions[i], own) for i in accepted):
        return Compatibility(True, f"{topic} accepts {contract.name} {built}: it accepts {named}")
    ours = _number(built)
    numbers = [n for n in (_number(label) for label in labels) if n is not None]
    if ours is not None and numbers and ours < min(numbers):
        why = "older than every revision it accepts: move to a newer ecom-contracts"
    elif ours is not None and numbers and ours > max(numbers):
        why = (
            "newer than every revision it accepts: Pub/Sub refuses fields they do not know; "
            "deploy the release that has it to the topic first"
        )
    else:
        why = "not among the revisions it accepts"
    return Compatibility(
        False,
        f"{topic} would refuse {contract.name} {built}, {why} (it accepts "
        f"{named or 'no revision'})",
    )


def read_topic(
    topic: str, publisher: Any = None, schemas: Any = None, timeout: float = 30.0
) -> tuple[TopicSettings, list[tuple[str, str]]]:
    """Read ``topic``'s schema settings and its schema's revisions (oldest first) from Pub/Sub.

    Raises SchemaLookupError when they cannot be read, and google.api_core's
    NotFound when the topic does not exist.
    """
    from google.api_core import exceptions
    from google.auth import exceptions as auth_exceptions
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]
    from google.pubsub_v1 import types as pubsub

    try:
        settings = read_topic_settings(publisher or pubsub_v1.PublisherClient(), topic)
        if not settings.schema:
            return settings, []
        request = pubsub.ListSchemaRevisionsRequest(
            name=settings.schema, view=pubsub.SchemaView.FULL
        )
        client = schemas or pubsub_v1.SchemaServiceClient()
        listed = list(client.list_schema_revisions(request=request, timeout=timeout))
    except exceptions.NotFound:
        raise
    except (exceptions.GoogleAPIError, auth_exceptions.GoogleAuthError) as error:
        raise SchemaLookupError(f"{topic}: {type(error).__name__}: {error}") from error
    ordered = sorted(listed, key=lambda r: (r.revision_create_time, r.revision_id))
    return settings, [(r.revision_id, str(r.definition)) for r in ordered]
