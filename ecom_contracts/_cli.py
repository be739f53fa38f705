"""``ecom-contracts``: check events against their contract, publish them, say which release.

Subcommands:
  validate  check files of events against a contract and its rules (for CI)
  publish   validate events, encode them as the topic requires and publish them
  version   this package's version, registry release and contract revisions

Exit status: 0 success, 1 some event refused (or not published), 2 a usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import IO, NoReturn

from google.protobuf.message import Message

from ecom_contracts._catalog import CONTRACTS, Contract, contract
from ecom_contracts._check import FORMATS, Refusal, check_events, read_events
from ecom_contracts._errors import (
    EncodingError,
    OrderingKeyError,
    TopicMismatchError,
    UnknownContractError,
)
from ecom_contracts._publisher import Publisher
from ecom_contracts._topics import DEFAULT_TIMEOUT, check_ordering_key
from ecom_contracts._versions import RELEASE, VERSION

EXIT_STATUS = "Exit status: 0 success, 1 some event refused or not published, 2 a usage error."
FORMAT_HELP = (
    "json: the contract's proto3 JSON, one event per line; pubsub-json: payloads as a "
    "JSON-encoded topic carries them (Timestamp as {seconds, nanos}); replay: replay records "
    '{"data": base64, "attributes": {...}} (binary unless the attributes say JSON; '
    "dead-letter files are such records); auto (default): replay records and json, line by line"
)


class _Parser(argparse.ArgumentParser):
    """A parser whose usage errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> _Parser:
    parser = _Parser(
        prog="ecom-contracts",
        description=__doc__.split("\n")[0],
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"ecom-contracts {VERSION} (registry release {RELEASE})",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    validate = commands.add_parser(
        "validate",
        help="check files of events against a contract and its rules",
        description=(
            "Check every event in FILE(s) against the contract and its validation rules. "
            "Prints one line per refused event, FILE:LINE: KIND: DETAIL, where KIND is invalid "
            "(each broken rule as field path: rule id: message), malformed (not an event in the "
            "format), wrong_contract, or unknown_fields (fields this release does not know)."
        ),
        epilog=f"{EXIT_STATUS} A file without events is a usage error.",
    )
    validate.add_argument("--contract", required=True, help=_contract_help())
    validate.add_argument("--format", choices=FORMATS, default="auto", help=FORMAT_HELP)
    validate.add_argument("files", nargs="+", metavar="FILE", help="NDJSON file ('-': stdin)")
    validate.set_defaults(parser=validate)

    publish = commands.add_parser(
        "publish",
        help="validate events and publish them as the topic requires",
        description=(
            "Validate every event of FILE against the contract, encode it as the topic's schema "
            "settings require (read from the topic: BINARY or JSON) and publish it with the "
            "attributes the pipeline reads (ecom_contract, ecom_encoding, ecom_revision). "
            "Refused events are reported and not published; so are messages Pub/Sub refuses "
            "or does not confirm within --timeout and, with --ordering-key, the later messages "
            "of a key a refusal holds. A topic named after another contract, or whose schema "
            "is another contract's, is a usage error."
        ),
        epilog=EXIT_STATUS + " Set PUBSUB_EMULATOR_HOST to publish to the Pub/Sub emulator.",
    )
    publish.add_argument("--topic", required=True, help="projects/PROJECT/topics/TOPIC")
    publish.add_argument("--contract", required=True, help=_contract_help())
    publish.add_argument("--format", choices=FORMATS, default="auto", help=FORMAT_HELP)
    publish.add_argument(
        "--encoding",
        choices=("BINARY", "JSON"),
        default=None,
        help="default: what the topic's schema settings require (BINARY without a schema)",
    )
    publish.add_argument(
        "--ordering-key",
        default="",
        help="scalar event field, not personal data, whose value orders messages (order_id)",
    )
    publish.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds each message has to be confirmed, retries included (default: %(default)g)",
    )
    publish.add_argument("file", nargs="?", default="-", metavar="FILE", help="default: stdin")
    publish.set_defaults(parser=publish)

    version = commands.add_parser(
        "version",
        help="this package's version, registry release and contract revisions",
        description="Print the version, the registry release and each contract's revision.",
        epilog="Exit status: 0.",
    )
    version.set_defaults(parser=version)
    return parser


def _contract_help() -> str:
    return (
        "the contract: its Pub/Sub schema id ("
        + ", ".join(c.schema_id for c in CONTRACTS)
        + "), topic id, message name or full name"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    command: _Parser = args.parser
    if args.command == "version":
        return _version()
    try:
        chosen = contract(args.contract)
    except UnknownContractError as unknown:
        command.error(f"argument --contract: {unknown}")
    if args.command == "validate":
        return _validate(command, chosen, args.files, args.format)
    return _publish(command, chosen, args)


def _version() -> int:
    print(f"ecom-contracts {VERSION} (registry release {RELEASE})")
    for known in CONTRACTS:
        print(
            f"  {known.schema_id:<22} {known.name:<36} {known.revision:<8} topic {known.topic_id}"
        )
    return 0


def _open(parser: _Parser, name: str) -> IO[bytes]:
    if name == "-":
        return sys.stdin.buffer
    try:
        return Path(name).open("rb")
    except OSError as error:
        parser.error(f"argument FILE: cannot read {name}: {error.strerror}")


def _validate(parser: _Parser, chosen: Contract, files: list[str], fmt: str) -> int:
    events = refused = 0
    for name in files:
        with _open(parser, name) as stream:
            result = check_events(stream, chosen, fmt, source=name)
        for refusal in result.refusals:
            print(refusal)
        events += result.events
        refused += len(result.refusals)
    if not events:
        parser.error(f"argument FILE: no events in {', '.join(files)}")
    print(
        f"checked {events} event(s) against {chosen.name} {chosen.revision} "
        f"(ecom-contracts {VERSION}): {events - refused} valid, {refused} refused",
        file=sys.stderr,
    )
    return 1 if refused else 0


def _publish(parser: _Parser, chosen: Contract, args: argparse.Namespace) -> int:
    if args.ordering_key:
        try:
            check_ordering_key(chosen, args.ordering_key)
        except OrderingKeyError as refused:
            parser.error(f"argument --ordering-key: {refused}")
    with _open(parser, args.file) as stream:
        parsed = list(read_events(stream, chosen, args.format, source=args.file))
    events = [(number, event) for number, event in parsed if isinstance(event, Message)]
    failures = [(r.line, f"{r.kind}: {r.detail}") for _, r in parsed if isinstance(r, Refusal)]
    publisher = Publisher(
        args.topic,
        ordering=bool(args.ordering_key),
        encoding=args.encoding,
        contract=chosen.name,
        timeout=args.timeout,
    )
    try:
        print(f"{args.topic}: {publisher.encoding} messages", file=sys.stderr)
        publisher.carries  # noqa: B018 - the topic's contract, checked before anything is sent
    except EncodingError as refused:
        parser.error(f"argument --encoding: {refused}")
    except TopicMismatchError as mismatch:
        parser.error(f"argument --topic: {mismatch}")
    note = publisher.settings.revision_note(chosen.name) if publisher.settings else ""
    if note:
        print(f"warning: {note}", file=sys.stderr)
    results = publisher.publish(
        [event for _, event in events], ordering_key_field=args.ordering_key
    )
    for key, cause in publisher.held_keys.items():
        print(
            f"ordering key {key!r} is held after a refusal ({cause}): its later events were "
            "not sent",
            file=sys.stderr,
        )
    failures += [(events[r.index][0], r.error) for r in results if r.error is not None]
    for number, error in sorted(failures):
        print(f"{args.file}:{number}: {error}")
    published = len(results) - sum(r.error is not None for r in results)
    print(
        f"published {published} of {len(parsed)} events to {args.topic}; {len(failures)} refused",
        file=sys.stderr,
    )
    return 0 if not failures else 1


def run() -> None:
    """Run the command line and exit with its status (the console script's entry point)."""
    sys.exit(main())
