"""``python -m ops.deadletters``: what failed, how often, since when, with one example each.

Reads dead-letter files from a folder, a ``gs://`` prefix or one file, line by
line, and groups the records by reason, contract, revision, and (for rule
violations) field path and rule. Per group: the number of records and of
distinct messages, the first and last failure time, the revisions the
producers say they built against (their ``ecom_revision`` attribute: who still
sends what), and one example: its message id, detail and attributes. Payloads stay hidden unless
``--payloads`` asks for them, and then the fields that land in a PII column
of the warehouse (``customer.email``, ``search_query``...) are masked; a
payload that does not decode is shown by its size only.

Exit status: 0 the summary was printed (whatever it holds), 2 a usage error
(no dead-letter files at the source).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from apache_beam.io.filesystems import FileSystems
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from ecom_contracts import REVISION_ATTRIBUTE
from ecom_warehouse.artifacts import WAREHOUSE_TABLES
from pipeline.catalog import BY_NAME, Contract
from pipeline.endpoints import beam_storage_without_credentials

MASK: Final = "***"


def pattern(source: str) -> str:
    """Return the file pattern of a dead-letter source (folder, prefix or one file)."""
    return source if source.endswith(".ndjson") else source.rstrip("/") + "/**.ndjson"


def has_files(source: str) -> bool:
    """Return whether ``source`` holds any dead-letter file."""
    return bool(FileSystems.match([pattern(source)])[0].metadata_list)


def read_dead_letters(source: str) -> Iterator[dict[str, Any]]:
    """Yield every record of every ``*.ndjson`` file under ``source``, line by line."""
    for match in FileSystems.match([pattern(source)])[0].metadata_list:
        with FileSystems.open(match.path) as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)


def pii_columns() -> frozenset[str]:
    """Return the warehouse's PII column names (those carrying a policy tag)."""
    return frozenset(
        column["name"]
        for table in WAREHOUSE_TABLES.values()
        for column in table["api"]["schema"]["fields"]
        if "policyTags" in column
    )


def pii_paths(contract: Contract, columns: frozenset[str]) -> frozenset[str]:
    """Return the event's field paths that land in a PII column (``customer.email``...).

    A path lands in a column whose name is the path joined with ``_``, the
    way the model flattens nested fields.
    """
    found: set[str] = set()

    def walk(descriptor: Any, prefix: tuple[str, ...]) -> None:
        for event_field in descriptor.fields:
            path = (*prefix, event_field.name)
            if "_".join(path) in columns:
                found.add(".".join(path))
            elif event_field.message_type is not None and len(path) < 4:
                walk(event_field.message_type, path)

    walk(contract.message.DESCRIPTOR, ())
    return frozenset(found)


def masked_payload(letter: dict[str, Any], columns: frozenset[str]) -> Any:
    """Return the letter's payload as its event in JSON, PII fields masked; else its size."""
    data = base64.b64decode(letter.get("data", ""))
    contract = BY_NAME.get(letter.get("contractName", ""))
    if contract is None:
        return f"({len(data)} bytes; no contract to decode them)"
    event: Message = contract.message()
    encoding = letter.get("attributes", {}).get("ecom_encoding", "BINARY").upper()
    try:
        if encoding == "JSON":
            shaped = contract.pubsub_message()
            json_format.Parse(data, shaped)
            event.MergeFromString(shaped.SerializeToString())
        else:
            event.MergeFromString(data)
    except (DecodeError, json_format.ParseError, UnicodeDecodeError, ValueError):
        return f"({len(data)} bytes; not a {contract.name})"
    shown = json_format.MessageToDict(event, preserving_proto_field_name=True)
    for path in pii_paths(contract, columns):
        *parents, leaf = path.split(".")
        node: Any = shown
        for name in parents:
            node = node.get(name, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict) and leaf in node:
            node[leaf] = MASK
    return shown


@dataclass
class Group:
    """Dead letters sharing reason, contract, revision, field path and rule."""

    records: int = 0
    messages: set[str] = field(default_factory=set)
    first: str = ""
    last: str = ""
    example: dict[str, Any] = field(default_factory=dict)
    published_as: Counter[str] = field(default_factory=Counter)
    """Records per revision the producers say they built against (``ecom_revision``)."""

    def add(self, letter: dict[str, Any]) -> None:
        """Count ``letter``; keep the first one as the example."""
        self.records += 1
        attributes = letter.get("attributes") or {}
        self.published_as[attributes.get(REVISION_ATTRIBUTE, "") or "(not said)"] += 1
        self.messages.add(letter.get("messageId", ""))
        failed = letter.get("failedAt", "")
        if failed and (not self.first or failed < self.first):
            self.first = failed
        if failed and failed > self.last:
            self.last = failed
        if not self.example:
            self.example = letter


GroupKey = tuple[str, str, str, str, str]
"""(reason, contract, revision, field path, rule)."""


def group_keys(letter: dict[str, Any]) -> list[GroupKey]:
    """Return the groups ``letter`` belongs to: one per broken rule, else one."""
    reason = str(letter.get("reason", "")).removeprefix("REASON_").lower()
    contract = letter.get("contractName", "") or "(unknown)"
    revision = letter.get("contractRevision", "")
    violations = letter.get("violations") or []
    if not violations:
        return [(reason, contract, revision, "", "")]
    return [
        (reason, contract, revision, v.get("fieldPath", "") or "(message)", v.get("ruleId", ""))
        for v in violations
    ]


def summarize(letters: Iterator[dict[str, Any]]) -> tuple[dict[GroupKey, Group], int]:
    """Group ``letters`` (a stream: only counts and one example per group are kept).

    Returns the groups and the number of lines that were not dead-letter records.
    """
    groups: dict[GroupKey, Group] = {}
    others = 0
    for letter in letters:
        if not isinstance(letter, dict) or "reason" not in letter:
            others += 1
            continue
        for key in group_keys(letter):
            groups.setdefault(key, Group()).add(letter)
    return groups, others


def _example(group: Group, payloads: bool, columns: frozenset[str]) -> dict[str, Any]:
    letter = group.example
    shown = {
        "messageId": letter.get("messageId", ""),
        "failedAt": letter.get("failedAt", ""),
        "detail": letter.get("detail", ""),
        "attributes": letter.get("attributes", {}),
    }
    if payloads:
        shown["payload"] = masked_payload(letter, columns)
    return shown


def report(groups: dict[GroupKey, Group], payloads: bool) -> list[dict[str, Any]]:
    """Return the groups as rows, largest first."""
    columns = pii_columns()
    rows = []
    for key, group in sorted(groups.items(), key=lambda item: (-item[1].records, item[0])):
        reason, contract, revision, path, rule = key
        rows.append(
            {
                "reason": reason,
                "contract": contract,
                "revision": revision,
                "field_path": path,
                "rule": rule,
                "records": group.records,
                "messages": len(group.messages),
                "first_failure": group.first,
                "last_failure": group.last,
                "published_as": dict(sorted(group.published_as.items())),
                "example": _example(group, payloads, columns),
            }
        )
    return rows


def _print(rows: list[dict[str, Any]], source: str, others: int) -> None:
    print(f"dead letters under {source}: {len(rows)} group(s)")
    if others:
        print(f"(skipped {others} line(s) that are not dead-letter records)")
    for row in rows:
        where = f" {row['field_path']} {row['rule']}" if row["rule"] else ""
        print(
            f"{row['records']:>8,} records {row['messages']:>8,} messages  {row['reason']}  "
            f"{row['contract']} {row['revision']}{where}"
        )
        if row["first_failure"]:
            print(f"{'':>10}failed from {row['first_failure']} to {row['last_failure']}")
        producers = ", ".join(f"{name} {count:,}" for name, count in row["published_as"].items())
        print(f"{'':>10}published as {producers}")
        example = row["example"]
        print(f"{'':>10}example {example['messageId']}: {example['detail'][:200]}")
        if "payload" in example:
            print(f"{'':>10}payload {json.dumps(example['payload'], sort_keys=True)[:500]}")


def main(argv: list[str] | None = None) -> int:
    """Summarize the dead letters of ``--source``; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m ops.deadletters",
        description=__doc__.split("\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--source", required=True, help="folder, gs:// prefix or one .ndjson file")
    parser.add_argument(
        "--payloads", action="store_true", help="show each example's payload, PII fields masked"
    )
    parser.add_argument("--json", action="store_true", help="print the groups as JSON")
    args = parser.parse_args(argv)
    beam_storage_without_credentials()  # a named Cloud Storage emulator needs none
    if not has_files(args.source):
        print(f"error: no dead-letter files (*.ndjson) under {args.source}", file=sys.stderr)
        return 2
    groups, others = summarize(read_dead_letters(args.source))
    rows = report(groups, args.payloads)
    if args.json:
        print(json.dumps({"groups": rows, "other_lines": others}, indent=2, sort_keys=True))
    else:
        _print(rows, args.source, others)
    return 0


if __name__ == "__main__":
    sys.exit(main())
