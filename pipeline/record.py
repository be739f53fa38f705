"""The pipeline's input element: one Pub/Sub message, from Pub/Sub itself or a replay file."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

import orjson

from pipeline.model import FactRow

_STRINGS = frozenset((str, type(None)))


@dataclass(frozen=True, init=False)
class PubsubRecord:
    """A Pub/Sub message as the pipeline sees it.

    The JSON form (:meth:`to_json` / :meth:`from_json`) is the replay format:
    ``{"data": base64, "attributes": {...}, "messageId": ..., "publishTime": RFC 3339}``,
    the shape of Pub/Sub's own REST representation. Dead-letter records use the
    same four field names, so a dead-letter file is valid replay input.
    """

    data: bytes
    attributes: dict[str, str] = field(default_factory=dict)
    message_id: str = ""
    publish_time: str = ""
    """RFC 3339 UTC timestamp, or empty when unknown."""
    default_contract: str = field(default="", compare=False)
    """The contract of the subscription it was read from, for routing a message that names
    none; carried beside the message, never added to its attributes (a dead letter keeps
    those byte for byte). Not part of the JSON."""

    def __init__(
        self,
        data: bytes,
        attributes: dict[str, str] | None = None,
        message_id: str = "",
        publish_time: str = "",
        default_contract: str = "",
    ) -> None:
        # A frozen dataclass's own __init__ sets each field through object.__setattr__, about
        # 0.7 us a record, on every message; its instance dictionary takes them at once.
        fields = self.__dict__
        fields["data"] = data
        fields["attributes"] = {} if attributes is None else attributes
        fields["message_id"] = message_id
        fields["publish_time"] = publish_time
        fields["default_contract"] = default_contract

    def to_json(self) -> str:
        """Return the record as one replay-format JSON line (without newline)."""
        return json.dumps(
            {
                "data": base64.b64encode(self.data).decode("ascii"),
                "attributes": self.attributes,
                "messageId": self.message_id,
                "publishTime": self.publish_time,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, line: str | bytes) -> PubsubRecord:
        """Parse one replay-format line; extra fields (as in dead-letter records) are ignored.

        Parsed by orjson; a line orjson refuses is parsed again by the standard
        library, so exactly the lines ``json.loads`` takes are taken. Raises
        ValueError when the line is not such a record.
        """
        try:
            parsed: Any = orjson.loads(line)
        except orjson.JSONDecodeError:
            parsed = json.loads(line)  # NaN, a BOM, a lone surrogate: the library decides
        if type(parsed) is not dict:
            raise ValueError("a replay record is a JSON object with base64 `data`")
        if not _STRINGS.issuperset(map(type, (parsed.get("messageId"), parsed.get("publishTime")))):
            parsed = json.loads(line)  # a number, as the standard library reads it (orjson: float)
        data = parsed.get("data", "")
        attributes = parsed.get("attributes") or {}
        if type(data) is not str:
            raise ValueError("a replay record is a JSON object with base64 `data`")
        if type(attributes) is not dict or not all(
            type(k) is str and type(v) is str for k, v in attributes.items()
        ):
            raise ValueError("replay `attributes` must map strings to strings")
        return cls(
            binascii.a2b_base64(data, strict_mode=True),
            attributes,
            str(parsed.get("messageId", "")),
            str(parsed.get("publishTime", "")),
        )


MessageRows = tuple[list[FactRow], PubsubRecord]
"""One message's fact rows and the message itself: what the warehouse sinks take (in lists)."""
