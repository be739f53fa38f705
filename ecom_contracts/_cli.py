"""``ecom-contracts``: check events against their contract, publish them, say which release.

Subcommands:
  validate             check files of events against a contract and its rules (for CI)
  publish              validate events, encode them as the topic requires and publish them
  example              print valid sample events of a contract, one per line
  check-compatibility  would a topic accept this package's revision of a contract (for CI)
  version              this package's version, registry release and contract revisions

Exit status: 0 success, 1 some event refused (or not published), 2 a usage error,
141 the reader of the output went away (a closed pipe: ``| head``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Final, NoReturn

from google.protobuf import json_format
from google.protobuf.message import Message

from ecom_contracts._catalog import CONTRACTS, Contract, contract
from ecom_contracts._check import FORMATS, Refusal, check_events
from ecom_contracts._compatibility import against_release, against_topic, read_topic
from ecom_contracts._encoding import encode
from ecom_contracts._errors import (
    EncodingError,
    OrderingKeyError,
    SchemaLookupError,
    TopicMismatchError,
    UnknownContractError,
)
from ecom_contracts._examples import examples
from ecom_contracts._publisher import Publisher
from ecom_contracts._topics import DEFAULT_TIMEOUT, check_ordering_key, topic_contract
from ecom_contracts._versions import RELEASE, VERSION

EXIT_STATUS = "Exit status: 0 success, 1 some event refused or not published, 2 a usage error."
BROKEN_PIPE: Final = 141
"""The exit status when standard output's reader went away (128 + SIGPIPE, as shells say)."""
MAX_REFUSALS: Final = 100
"""Refused lines printed by default; the rest are counted (a binary file has thousands)."""
TOPIC: Final = re.compile(r"projects/[^/\s]+/topics/[A-Za-z][-\w.~+%]{2,254}")
PUBLISH_EXTRA: Final = "pip install 'ecom-contracts[publish]'"
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
    _max_refusals(validate)
    validate.add_argument("files", nargs="+", metavar="FILE", help="NDJSON file ('-': stdin)")
    validate.set_defaults(parser=validate)

    publish = commands.add_parser(
        "publish",
        help="validate events and publish them as the topic requires",
        description=(
            "Validate every event of FILE against the contract first: if any is refused, "
            "nothing is published (so a re-run after the fix sends each event once), unless "
            "--skip-invalid. Then encode each event as the topic's schema settings require "
            "(read from the topic unless --encoding: BINARY or JSON) and publish it with the "
            "attributes the pipeline reads (ecom_contract, ecom_encoding, ecom_revision). "
            "Messages Pub/Sub refuses or does not confirm within --timeout are reported; so "
            "are, with --ordering-key, the later messages of a key a refusal holds. A topic "
            "named after another contract, or whose schema is another contract's, is a usage "
            "error."
        ),
        epilog=EXIT_STATUS
        + " A file without events, a malformed or missing topic, and publishing without the "
        f"Pub/Sub client ({PUBLISH_EXTRA}) are usage errors. Set PUBSUB_EMULATOR_HOST to "
        "publish to the Pub/Sub emulator.",
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
    publish.add_argument(
        "--skip-invalid",
        action="store_true",
        help="publish the valid events even when some are refused (default: all or nothing)",
    )
    publish.add_argument(
        "--dry-run",
        action="store_true",
        help="validate and say what would be published; send nothing, contact no service",
    )
    _max_refusals(publish)
    publish.add_argument("file", nargs="?", default="-", metavar="FILE", help="default: stdin")
    publish.set_defaults(parser=publish)

    example = commands.add_parser(
        "example",
        help="print valid sample events of a contract, one per line",
        description=(
            "Print sample events of the contract, valid against its rules, one JSON object per "
            "line: a start for a producer's own test files, which `validate` accepts."
        ),
        epilog="Exit status: 0 printed, 2 a usage error.",
    )
    example.add_argument("--contract", required=True, help=_contract_help())
    example.add_argument(
        "--format",
        choices=("json", "pubsub-json"),
        default="json",
        help="json (default): the contract's proto3 JSON; pubsub-json: as a JSON-encoded "
        "topic carries them",
    )
    example.set_defaults(parser=example)

    compatibility = commands.add_parser(
        "check-compatibility",
        help="would a topic accept this package's revision of a contract (for CI)",
        description=(
            "Check the contract's revision in this package against the revisions the topic "
            "accepts: with --topic, read from its schema settings and schema revisions "
            "(roles/pubsub.viewer: pubsub.topics.get and pubsub.schemas.listRevisions; when "
            "they cannot be read, the release is the answer, with a warning); without, from "
            "the registry release this package was built from (an unreleased revision is on no "
            "topic)."
        ),
        epilog="Exit status: 0 accepted, 1 the topic would refuse it (the reason is printed), "
        "2 a usage error (a malformed or missing topic). Set PUBSUB_EMULATOR_HOST for the "
        "emulator.",
    )
    compatibility.add_argument("--contract", required=True, help=_contract_help())
    compatibility.add_argument(
        "--topic", default="", help="projects/PROJECT/topics/TOPIC (default: the release only)"
    )
    compatibility.set_defaults(parser=compatibility)

    version = commands.add_parser(
        "version",
        help="this package's version, registry release and contract revisions",
        description="Print the version, the registry release and each contract's revision.",
        epilog="Exit status: 0.",
    )
    version.set_defaults(parser=version)
    return parser


def _count(text: str) -> int:
    """Return ``text`` as a count, 0 or more; argparse reports anything else as a usage error."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"a whole number, 0 or more, not {text!r}")
    return int(text)


def _max_refusals(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-refusals",
        type=_count,
        default=MAX_REFUSALS,
        metavar="N",
        help=f"print at most N refused lines, then count the rest (default {MAX_REFUSALS}; 0: all)",
    )


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
        return _validate(command, chosen, args.files, args.format, args.max_refusals)
    if args.command == "example":
        return _example(chosen, args.format)
    if args.command == "check-compatibility":
        return _check_compatibility(command, chosen, args.topic)
    return _publish(command, chosen, args)


def _example(chosen: Contract, fmt: str) -> int:
    for event in examples(chosen):
        if fmt == "json":
            print(json_format.MessageToJson(event, indent=None))
        else:
            print(encode(event, "JSON").data.decode())
    return 0


def _check_compatibility(parser: _Parser, chosen: Contract, topic: str) -> int:
    if not topic:
        verdict = against_release(chosen)
    else:
        if not TOPIC.fullmatch(topic):
            parser.error(f"argument --topic: {topic!r} is not projects/PROJECT/topics/TOPIC")
        if not _pubsub_installed():
            parser.error(
                f"reading a topic needs the Pub/Sub client, not installed: {PUBLISH_EXTRA}"
            )
        from google.api_core import exceptions

        try:
            settings, revisions = read_topic(topic)
        except exceptions.NotFound:
            parser.error(f"argument --topic: {topic} does not exist")
        except SchemaLookupError as unreadable:
            print(
                f"warning: the topic's schema settings could not be read ({unreadable}); "
                "judged by the package's registry release instead",
                file=sys.stderr,
            )
            verdict = against_release(chosen)
        else:
            verdict = against_topic(chosen, topic, settings, revisions)
    print(f"{'accepted' if verdict.accepted else 'refused'}: {verdict.reason}")
    return 0 if verdict.accepted else 1


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


def _report(refusals: Sequence[Refusal], printed: int, limit: int) -> int:
    """Print ``refusals`` up to ``limit`` lines in all (0: no limit); return how many printed."""
    for refusal in refusals:
        if limit and printed >= limit:
            break
        print(refusal)
        printed += 1
    return printed


def _not_shown(refused: int, printed: int) -> str:
    if refused <= printed:
        return ""
    return (
        f"; {refused - printed} more refused line(s) not shown (the first {printed} are; "
        "--max-refusals 0 prints all)"
    )


def _validate(
    parser: _Parser, chosen: Contract, files: list[str], fmt: str, limit: int = MAX_REFUSALS
) -> int:
    if files.count("-") > 1:
        parser.error("argument FILE: standard input ('-') can be read only once")
    events = refused = printed = 0
    for name in files:
        with _open(parser, name) as stream:
            result = check_events(stream, chosen, fmt, source=name)
        printed = _report(result.refusals, printed, limit)
        events += result.events
        refused += len(result.refusals)
    if not events:
        parser.error(f"argument FILE: no events in {', '.join(files)}")
    print(
        f"checked {events} event(s) against {chosen.name} {chosen.revision} "
        f"(ecom-contracts {VERSION}): {events - refused} valid, {refused} refused"
        + _not_shown(refused, printed),
        file=sys.stderr,
    )
    return 1 if refused else 0


def _publish(parser: _Parser, chosen: Contract, args: argparse.Namespace) -> int:
    if args.ordering_key:
        try:
            check_ordering_key(chosen, args.ordering_key)
        except OrderingKeyError as not_a_key:
            parser.error(f"argument --ordering-key: {not_a_key}")
    if not TOPIC.fullmatch(args.topic):
        parser.error(f"argument --topic: {args.topic!r} is not projects/PROJECT/topics/TOPIC")
    named = topic_contract(args.topic)
    if named is not None and named is not chosen:  # by its id: needs no service, nor the file
        parser.error(
            f"argument --topic: {args.topic} carries {named.name} (by its id), not "
            f"{chosen.name}: publish {chosen.schema_id} events to "
            f"projects/PROJECT/topics/{chosen.topic_id}"
        )
    if not args.dry_run and not _pubsub_installed():
        parser.error(f"publishing needs the Pub/Sub client, not installed: {PUBLISH_EXTRA}")
    with _open(parser, args.file) as stream:
        checked = check_events(stream, chosen, args.format, source=args.file, keep=True)
    if not checked.events:
        parser.error(f"argument FILE: no events in {args.file}")
    refused = len(checked.refusals)
    printed = _report(checked.refusals, 0, args.max_refusals)
    if refused and not args.skip_invalid:
        print(
            f"nothing published to {args.topic}: {refused} of {checked.events} event(s) refused"
            f"{_not_shown(refused, printed)}; fix them and publish the file again, or publish "
            "the valid ones with --skip-invalid",
            file=sys.stderr,
        )
        return 1
    events = checked.accepted
    if args.dry_run:
        print(
            f"dry run: {len(events)} of {checked.events} event(s) would be published to "
            f"{args.topic}; {refused} refused{_not_shown(refused, printed)}",
            file=sys.stderr,
        )
        return 1 if refused else 0
    return _send(parser, chosen, args, events, refused)


def _send(
    parser: _Parser,
    chosen: Contract,
    args: argparse.Namespace,
    events: list[tuple[int, Message]],
    refused: int,
) -> int:
    """Publish the checked ``events`` (line number, event); report each failure."""
    from google.api_core import exceptions

    publisher = Publisher(
        args.topic,
        ordering=bool(args.ordering_key),
        encoding=args.encoding,
        contract=chosen.name,
        timeout=args.timeout,
    )
    try:
        print(f"{args.topic}: {publisher.encoding} messages", file=sys.stderr)
        publisher.carries  # noqa: B018 - by the topic's schema too, before anything is sent
    except EncodingError as wrong:
        parser.error(f"argument --encoding: {wrong}")
    except TopicMismatchError as mismatch:
        parser.error(f"argument --topic: {mismatch}")
    except SchemaLookupError as unreadable:
        if isinstance(unreadable.__cause__, exceptions.NotFound):
            parser.error(f"argument --topic: {args.topic} does not exist")
        parser.error(f"argument --topic: {unreadable}")
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
    failures = [(events[r.index][0], r.error) for r in results if r.error is not None]
    for number, error in failures:
        print(f"{args.file}:{number}: {error}")
    published = len(results) - len(failures)
    print(
        f"published {published} of {len(events) + refused} events to {args.topic}; "
        f"{refused + len(failures)} refused",
        file=sys.stderr,
    )
    return 0 if not failures and not refused else 1


def _pubsub_installed() -> bool:
    """Return whether the Pub/Sub client (the ``publish`` extra) can be imported."""
    try:
        return importlib.util.find_spec("google.cloud.pubsub_v1") is not None
    except ModuleNotFoundError:
        return False


def run(argv: list[str] | None = None) -> None:
    """Run the command line and exit with its status (the console script's entry point).

    A reader that stops early (``ecom-contracts version | head -1``) ends the
    command quietly with status 141, as other command-line tools do.
    """
    try:
        status = main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit; point it at /dev/null so that flush is silent.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = BROKEN_PIPE
    sys.exit(status)
