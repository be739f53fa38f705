"""An in-memory Pub/Sub schema service, at the client's boundary (``SchemaServiceClient``'s calls).

Google's Pub/Sub emulator does not support PROTOCOL_BUFFER schemas (it
answers 501), and the contracts' schemas are PROTOCOL_BUFFER, so wherever a
test needs their revisions (the infrastructure's schema steps, the pipeline
reading a revision's definition) this stands in for the service: the same
request objects in, the same ``pubsub.Schema`` objects and ``google.api_core``
errors out. Revision ids are random per schema, as Pub/Sub's are, so two
projects committing the same definition get different ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from google.api_core import exceptions
from google.pubsub_v1 import types as pubsub


class FakeSchemaService:
    """Schemas and their revisions in memory; ``get_schema`` calls are counted per name.

    ``denied`` (schema names) answers PermissionDenied and ``unreachable``
    ServiceUnavailable, as the real service does for a missing grant or an outage.
    """

    def __init__(self) -> None:
        self.schemas: dict[str, list[pubsub.Schema]] = {}
        self.reads: list[str] = []
        """Every ``get_schema`` name, in order."""
        self.denied: set[str] = set()
        self.unreachable = False
        self._clock = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def _revision(self, name: str, definition: str, type_: Any) -> pubsub.Schema:
        self._clock += dt.timedelta(seconds=1)
        revision = pubsub.Schema(
            name=name,
            type_=type_,
            definition=definition,
            revision_id=uuid.uuid4().hex[:8],
            revision_create_time=self._clock,
        )
        self.schemas.setdefault(name, []).append(revision)
        return revision

    def _found(self, name: str) -> pubsub.Schema:
        schema, _, revision_id = name.partition("@")
        if self.unreachable:
            raise exceptions.ServiceUnavailable("the schema service cannot be reached")
        if schema in self.denied:
            raise exceptions.PermissionDenied(f"pubsub.schemas.get denied on {schema}")
        revisions = self.schemas.get(schema)
        if not revisions:
            raise exceptions.NotFound(f"Resource not found (resource={schema}).")
        if not revision_id:
            return revisions[-1]
        for revision in revisions:
            if revision.revision_id == revision_id:
                return revision
        raise exceptions.NotFound(f"Resource not found (resource={name}).")

    def get_schema(self, request: Any, **_: Any) -> pubsub.Schema:
        """Return a schema's newest revision, or the revision ``name@ID`` names."""
        self.reads.append(request.name)
        return self._found(request.name)

    def create_schema(self, request: Any) -> pubsub.Schema:
        """Create a schema with its first revision."""
        name = f"{request.parent}/schemas/{request.schema_id}"
        if name in self.schemas:
            raise exceptions.AlreadyExists(f"Resource already exists (resource={name}).")
        return self._revision(name, request.schema.definition, request.schema.type_)

    def commit_schema(self, request: Any) -> pubsub.Schema:
        """Commit a new revision of an existing schema."""
        self._found(request.name)
        return self._revision(request.name, request.schema.definition, request.schema.type_)

    def list_schema_revisions(self, request: Any) -> list[pubsub.Schema]:
        """Return every revision of a schema, in the order they were made."""
        self._found(request.name)
        return list(self.schemas[request.name])

    def delete_schema_revision(self, request: Any) -> pubsub.Schema:
        """Delete the revision ``name@ID``."""
        found = self._found(request.name)
        self.schemas[found.name].remove(found)
        return found
