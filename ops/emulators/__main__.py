"""``python -m ops.emulators``: install the BigQuery emulator, or say which emulators run here.

Commands:
  install   install the pinned BigQuery emulator for Python 3.13 (make emulators); on a
            machine without Python 3.13, say so and exit 0 (its tests skip, counted)
  status    one line per emulator: available, or what is missing

Exit status: 0 done, 1 the install failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys

from ops.emulators import bigquery
from ops.emulators.process import EmulatorUnavailableError
from ops.emulators.pubsub import find_emulator_jar


def parser() -> argparse.ArgumentParser:
    """Return the command's argument parser."""
    parsing = argparse.ArgumentParser(
        prog="python -m ops.emulators",
        description=__doc__.split("\n")[0].split(": ", 1)[1],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parsing.add_argument("command", choices=("install", "status"))
    return parsing


def status() -> list[str]:
    """Return one line per emulator saying whether it can run here."""
    lines = []
    try:
        lines.append(f"Pub/Sub        available ({find_emulator_jar()})")
    except EmulatorUnavailableError as missing:
        lines.append(f"Pub/Sub        unavailable: {missing}")
    if bigquery.installed():
        lines.append(f"BigQuery       available ({bigquery.install_dir()})")
    else:
        try:
            python = bigquery.find_python()
        except EmulatorUnavailableError as missing:
            lines.append(f"BigQuery       unavailable: {missing}")
        else:
            lines.append(f"BigQuery       not installed (make emulators; Python 3.13: {python})")
    lines.append("Cloud Storage  available (gcp-storage-emulator, in the dev install)")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the command; return the exit status."""
    args = parser().parse_args(argv)
    if args.command == "status":
        print("\n".join(status()))
        return 0
    try:
        bigquery.find_python()
    except EmulatorUnavailableError as missing:
        print(f"BigQuery emulator not installed: {missing}; its tests will skip, counted")
        return 0
    try:
        folder = bigquery.install()
    except EmulatorUnavailableError as failed:
        print(f"error: {failed}", file=sys.stderr)
        return 1
    print(f"BigQuery emulator ready in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
