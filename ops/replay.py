"""``python -m ops.replay``: re-publish dead letters, or raw landed messages, to their topics.

Dead letters: reads dead-letter NDJSON files from a local folder or a
``gs://`` prefix (Beam's FileSystems), keeps the records that match the
filters (``--since``/``--until`` on the failure time), and publishes each
one's original payload with its original attributes to the topic of its
contract.

Raw landing: ``--source bq://PROJECT.DATASET.raw_order_events`` reads the
messages a BigQuery subscription landed in a time range (``--since``/``--until``
on the publish time), page by page, turns each row back into its event,
encodes it as the topic requires and publishes it with its original
attributes and, where it had one, its ordering key (as the message's
ordering key, through an ordering-enabled publisher, in publish order): the
way back after a pipeline bug lost or mangled messages.

Pub/Sub's own ``googclient_*`` attributes are dropped (Pub/Sub adds them again
on a topic with a schema, and refuses them from publishers). Times without a
zone are UTC. Reports what was re-published and skipped; the sources are
never changed. Exit status: 0 all published, 1 some were not, 2 usage error.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ecom_contracts import Publisher, encode
from ops.deadletters import has_files, read_dead_letters
from ops.raw_messages import (
    PAGE_ROWS,
    RawRowError,
    contract_of_table,
    read_raw_landing,
    row_to_message,
)
from pipeline.catalog import BY_NAME, BY_SCHEMA_ID, Contract
from pipeline.endpoints import beam_storage_without_credentials
from pipeline.route import CONTRACT, SCHEMA_NAME


@dataclass(frozen=True)
class Filters:
    """Which dead letters to replay; empty means any."""

    reasons: frozenset[str] = frozenset()
    """Reason labels such as ``invalid`` or ``decode_error``."""
    contracts: frozenset[str] = frozenset()
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    """Bounds on the failure time (``failedAt``), inclusive since, exclusive until."""

    def match(self, letter: dict[str, Any]) -> bool:
        """Return whether ``letter`` passes every filter."""
        reason = str(letter.get("reason", "")).removeprefix("REASON_").lower()
        if self.reasons and reason not in self.reasons:
            return False
        if self.contracts and letter.get("contractName", "") not in self.contracts:
            return False
        failed = _time(letter.get("failedAt", ""))
        if self.since and (failed is None or failed < self.since):
            return False
        return not (self.until and (failed is None or failed >= self.until))


def _time(text: str) -> dt.datetime | None:
    """Parse an RFC 3339 time or a date; without a zone it is UTC."""
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time (2025-12-01 or 2025-12-01T10:00:00Z)"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def contract_of(letter: dict[str, Any]) -> Contract | None:
    """Return the contract a dead letter belongs to, from its record or its attributes."""
    attributes = letter.get("attributes", {})
    schema = attributes.get(SCHEMA_NAME, "").rsplit("/", 1)[-1]
    return (
        BY_NAME.get(letter.get("contractName", ""))
        or BY_NAME.get(attributes.get(CONTRACT, ""))
        or BY_SCHEMA_ID.get(schema)
    )


class Republisher:
    """Re-publish messages to their topics in pages as they are read: memory holds one page.

    A page is flushed at ``PAGE_ROWS`` messages or ``PAGE_BYTES`` of payload; in
    a dry run nothing is published and every message counts as would-be.
    With ``ordering``, the publishers have message ordering enabled and each
    message goes out with its ordering key (pages are published one after
    the other, so a key's messages keep the order they were added in).
    """

    PAGE_BYTES = 32 * 1024 * 1024

    def __init__(self, client: Any, dry_run: bool, ordering: bool = False) -> None:
        self.client = client
        self.dry_run = dry_run
        self.ordering = ordering
        self.publishers: dict[str, Publisher] = {}
        self.pending: dict[str, list[tuple[bytes, dict[str, str], str]]] = {}
        self.sizes: Counter[str] = Counter()
        self.published: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()

    def publisher(self, topic: str) -> Publisher:
        """Return the publisher of ``topic`` (one per topic, reading its settings once)."""
        if topic not in self.publishers:
            self.publishers[topic] = Publisher(topic, ordering=self.ordering, client=self.client)
        return self.publishers[topic]

    def add(
        self, topic: str, data: bytes, attributes: dict[str, str], ordering_key: str = ""
    ) -> None:
        """Queue one message; publish the topic's page when it is full."""
        if ordering_key and not self.ordering:
            raise ValueError("an ordering key needs a Republisher with ordering enabled")
        self.pending.setdefault(topic, []).append((data, attributes, ordering_key))
        self.sizes[topic] += len(data)
        if len(self.pending[topic]) >= PAGE_ROWS or self.sizes[topic] >= self.PAGE_BYTES:
            self.flush(topic)

    def flush(self, topic: str) -> None:
        """Publish the topic's page and count the outcomes."""
        page = self.pending.pop(topic, [])
        self.sizes[topic] = 0
        if self.dry_run:
            self.published[topic] += len(page)
            return
        payloads = [(data, attributes) for data, attributes, _ in page]
        keys = [key for _, _, key in page] if self.ordering else None
        for result in self.publisher(topic).publish_raw(payloads, keys):
            if result.error:
                self.failed[topic] += 1
                print(f"{topic} message {result.index}: {result.error}", file=sys.stderr)
            else:
                self.published[topic] += 1

    def finish(self) -> tuple[int, int]:
        """Publish what is left; print per topic; return (published, failed)."""
        for topic in list(self.pending):
            self.flush(topic)
        verb = "would publish" if self.dry_run else "published"
        for topic in sorted(set(self.published) | set(self.failed)):
            print(f"{verb} {self.published[topic]} to {topic}; failed {self.failed[topic]}")
        return sum(self.published.values()), sum(self.failed.values())


def replay_raw_landing(args: argparse.Namespace, client: Any, bigquery_client: Any) -> int:
    """Re-publish the raw landed messages of ``args.source`` in the time range."""
    table = args.source.removeprefix("bq://")
    try:
        contract = contract_of_table(table)
    except RawRowError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if bigquery_client is None:
        from pipeline.endpoints import bigquery_client as client_for

        bigquery_client = client_for(table.split(".")[0])
    topic = f"projects/{args.project}/topics/{args.topic or contract.topic_id}"
    republisher = Republisher(client, args.dry_run, ordering=True)
    encoding = "BINARY" if args.dry_run else republisher.publisher(topic).encoding
    unreadable = 0
    for row in read_raw_landing(bigquery_client, table, args.since, args.until):
        try:
            message = row_to_message(row, contract)
        except RawRowError as error:
            unreadable += 1
            print(f"skipped: {error}", file=sys.stderr)
            continue
        data, routing = encode(message.event, encoding, validate=False)
        republisher.add(topic, data, {**routing, **message.attributes}, message.ordering_key)
    published, failed = republisher.finish()
    verb = "would re-publish" if args.dry_run else "re-published"
    print(f"{verb} {published} to {topic}; failed {failed}; unreadable rows {unreadable}")
    return 0 if failed == 0 and unreadable == 0 else 1


def replay_dead_letters(args: argparse.Namespace, client: Any) -> int:
    """Re-publish the dead letters under ``args.source`` that match the filters, as read."""
    filters = Filters(frozenset(args.reason), frozenset(args.contract), args.since, args.until)
    if not has_files(args.source):
        print(f"error: no dead-letter files (*.ndjson) under {args.source}", file=sys.stderr)
        return 2
    republisher = Republisher(client, args.dry_run)
    skipped: Counter[str] = Counter()
    for letter in read_dead_letters(args.source):
        if not isinstance(letter, dict) or "reason" not in letter:
            skipped["not a dead-letter record"] += 1
            continue
        if not filters.match(letter):
            skipped["filtered out"] += 1
            continue
        contract = contract_of(letter)
        topic_id = args.topic or (contract.topic_id if contract else None)
        if topic_id is None:
            skipped["no known contract (use --topic)"] += 1
            continue
        attributes = {
            k: v for k, v in letter.get("attributes", {}).items() if not k.startswith("googclient_")
        }
        data = base64.b64decode(letter.get("data", ""))
        republisher.add(f"projects/{args.project}/topics/{topic_id}", data, attributes)
    published, failed = republisher.finish()
    for reason, count in sorted(skipped.items()):
        print(f"skipped {count}: {reason}")
    verb = "would re-publish" if args.dry_run else "re-published"
    print(f"{verb} {published}; failed {failed}; source files left as they were")
    return 0 if failed == 0 else 1


def main(argv: list[str] | None = None, client: Any = None, bigquery_client: Any = None) -> int:
    """Re-publish the matching messages; return 0 when all of them were published."""
    parser = argparse.ArgumentParser(
        prog="python -m ops.replay",
        description=__doc__.split("\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--source",
        required=True,
        help="dead letters: folder, gs:// prefix or one .ndjson file; raw landing: "
        "bq://PROJECT.DATASET.raw_<topic>",
    )
    parser.add_argument("--project", required=True, help="project of the topics")
    parser.add_argument("--reason", action="append", default=[], help="e.g. invalid (repeatable)")
    parser.add_argument("--contract", action="append", default=[], help="contract full name")
    parser.add_argument(
        "--since", type=_time, help="failed (raw landing: published) at or after; UTC by default"
    )
    parser.add_argument(
        "--until", type=_time, help="failed (raw landing: published) before; UTC by default"
    )
    parser.add_argument("--topic", help="publish every record to this topic id instead")
    parser.add_argument("--dry-run", action="store_true", help="report what would be published")
    args = parser.parse_args(argv)
    beam_storage_without_credentials()  # a named Cloud Storage emulator needs none
    if args.source.startswith("bq://"):
        if args.reason:
            parser.error("--reason applies to dead letters, not to raw landing")
        return replay_raw_landing(args, client, bigquery_client)
    return replay_dead_letters(args, client)


if __name__ == "__main__":
    sys.exit(main())
