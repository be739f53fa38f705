"""``python -m ops.publish``: validate events against their contract and publish them.

Input is newline-delimited JSON, one event per line in the contract's proto3
JSON form (for example ``{"eventId": "e1", "eventTimestamp": "2025-12-01T10:00:00Z", ...}``).
Each event is parsed strictly, validated with the contract's rules, encoded as
the topic's schema settings require (read from the topic; ``--encoding`` only
for a topic without a schema) and published with the routing attributes the
pipeline reads. Invalid events are reported and not published; messages
Pub/Sub refuses (a topic schema rejecting the payload) are reported per
message, and with ``--ordering-key`` so are the later messages of a key that
a refusal paused (the key is resumed). Exit status: 0 every event published,
1 some were not, 2 a usage error (including an encoding the topic refuses).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from google.protobuf import json_format
from google.protobuf.message import Message

from ops.publisher import Publisher
from pipeline.catalog import BY_NAME, BY_SCHEMA_ID, Contract


def resolve_contract(name: str) -> Contract:
    """Return the contract named by full name (``ecom.events.v1.OrderEvent``) or schema id."""
    contract = BY_NAME.get(name) or BY_SCHEMA_ID.get(name)
    if contract is None:
        known = ", ".join(sorted(BY_NAME))
        raise SystemExit(f"error: unknown contract {name!r}; known: {known}")
    return contract


def read_events(stream: TextIO, contract: Contract) -> Iterator[tuple[int, Message | str]]:
    """Yield (line number, event) per non-blank line; an error text when a line does not parse."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            yield number, json_format.Parse(line, contract.message())
        except json_format.ParseError as error:
            yield number, f"not a {contract.name} in JSON: {error}"


def main(argv: list[str] | None = None) -> int:
    """Publish the events of ``--input``; return 0 when every one was published."""
    parser = argparse.ArgumentParser(
        prog="python -m ops.publish",
        description=__doc__.split("\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--topic", required=True, help="projects/PROJECT/topics/TOPIC")
    parser.add_argument("--contract", required=True, help="full name or Pub/Sub schema id")
    parser.add_argument("--input", default="-", help="NDJSON file of events ('-': standard input)")
    parser.add_argument(
        "--encoding",
        choices=("BINARY", "JSON"),
        default=None,
        help="default: what the topic's schema settings require (BINARY without a schema)",
    )
    parser.add_argument(
        "--ordering-key", default="", help="event field whose value orders messages (e.g. order_id)"
    )
    args = parser.parse_args(argv)
    contract = resolve_contract(args.contract)
    if args.ordering_key and args.ordering_key not in contract.message.DESCRIPTOR.fields_by_name:
        raise SystemExit(f"error: {contract.name} has no field {args.ordering_key!r}")
    stream = sys.stdin if args.input == "-" else Path(args.input).open()  # noqa: SIM115
    with stream:
        parsed = list(read_events(stream, contract))
    events = [(number, event) for number, event in parsed if isinstance(event, Message)]
    failures = [(number, error) for number, error in parsed if isinstance(error, str)]
    publisher = Publisher(args.topic, ordering=bool(args.ordering_key), encoding=args.encoding)
    try:
        print(f"{args.topic}: {publisher.encoding} messages", file=sys.stderr)
    except ValueError as refused:
        parser.error(str(refused))
    note = publisher.settings.revision_note(contract.name)
    if note:
        print(f"warning: {note}", file=sys.stderr)
    results = publisher.publish(
        [event for _, event in events], ordering_key_field=args.ordering_key
    )
    for key in publisher.resumed_keys:
        print(f"ordering key {key!r} was paused by a refusal and has been resumed", file=sys.stderr)
    published = 0
    for result in results:
        if result.error is None:
            published += 1
        else:
            failures.append((events[result.index][0], result.error))
    for number, error in sorted(failures):
        print(f"line {number}: {error}", file=sys.stderr)
    print(f"published {published} of {len(parsed)} events to {args.topic}; {len(failures)} refused")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
