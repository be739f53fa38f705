"""``python -m contracts``: the contract toolchain's one command line.

Commands:
  generate  judge proto/ and regenerate every artifact from it (make proto)
  check     change nothing; fail on a refused change or generated files that drift
            (make check-generated)
  gate      every finding of buf breaking and the compatibility gate, generating nothing
  release   record proto/ as a new registry release (make release-contracts)
  bundle    write a release's bundle for producers in other languages (make dist)
  stamp     version ecom-contracts after the latest release (make release-contracts)

Exit status: 0 done, 1 refused (the change, by format, lint, buf breaking or the gate; a
release that cannot be bundled or stamped) or generated files drift, 2 a usage error.
Every command has --help, which says what its statuses mean.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from contracts import gate, generate, package_version, record_release, release_bundle

DESCRIPTION: Final = (
    "The contract toolchain: judge and regenerate everything from proto/, record registry "
    "releases and package them for producers."
)
EXIT_STATUS: Final = __doc__.split("\n\n")[-1]


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, its help, its options and what runs it."""

    name: str
    summary: str
    """One line for the list of commands."""
    description: str
    exit_status: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    """Runs the parsed command; returns the exit status."""
    defaults: Mapping[str, object] = field(default_factory=dict)


COMMANDS: Final = (
    Command(
        "generate",
        "judge proto/ and regenerate every artifact from it (make proto)",
        generate.GENERATE,
        generate.EXIT_STATUS,
        generate.add_arguments,
        generate.run,
        {"check": False},
    ),
    Command(
        "check",
        "fail on a refused change or generated files that drift (make check-generated)",
        generate.CHECK,
        generate.EXIT_STATUS,
        generate.add_arguments,
        generate.run,
        {"check": True},
    ),
    Command(
        "gate",
        "every finding of buf breaking and the compatibility gate, generating nothing",
        gate.DESCRIPTION,
        gate.EXIT_STATUS,
        gate.add_arguments,
        gate.run,
    ),
    Command(
        "release",
        "record proto/ as a new registry release (make release-contracts)",
        record_release.DESCRIPTION,
        record_release.EXIT_STATUS,
        record_release.add_arguments,
        record_release.run,
    ),
    Command(
        "bundle",
        "write a release's bundle for producers in other languages (make dist)",
        release_bundle.DESCRIPTION,
        release_bundle.EXIT_STATUS,
        release_bundle.add_arguments,
        release_bundle.run,
    ),
    Command(
        "stamp",
        "version ecom-contracts after the latest release (make release-contracts)",
        package_version.DESCRIPTION,
        package_version.EXIT_STATUS,
        package_version.add_arguments,
        package_version.run,
    ),
)


def parser() -> argparse.ArgumentParser:
    """Return the parser of ``python -m contracts`` and its subcommands."""
    top = argparse.ArgumentParser(
        prog="python -m contracts",
        description=DESCRIPTION,
        epilog=EXIT_STATUS,
    )
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub = commands.add_parser(
            command.name,
            help=command.summary,
            description=command.description,
            epilog=command.exit_status,
        )
        command.add_arguments(sub)
        sub.set_defaults(run=command.run, **command.defaults)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv`` names (default: the process's arguments); return its status."""
    args = parser().parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
