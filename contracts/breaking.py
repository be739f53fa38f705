"""buf's wire and JSON breaking-change check, as findings of the gate.

Events, the shared types and the dead-letter record are serialized (Pub/Sub
messages, dead-letter files), so an older reader must still read a newer
message and the other way round: buf's WIRE_JSON rules (``buf.yaml``) judge
the files under :data:`WIRE_PATHS`. Warehouse messages are never serialized;
the BigQuery gate (:mod:`contracts.compatibility`) alone judges them, so a
fact-table column may, say, widen from int32 to int64.

buf runs to the end and every finding it reports becomes a refused
:class:`~contracts.compatibility.Finding` about ``file:line:column``, so one
run of ``make proto`` shows buf's findings beside the gate's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from contracts import toolchain
from contracts.compatibility import REFUSED, Finding
from contracts.errors import ToolchainError

WIRE_PATHS: Final = ("ecom/events", "ecom/types", "ecom/deadletter")
"""The folders of ``proto/`` whose messages are serialized: buf breaking judges only these."""
_FINDINGS: Final = 100
"""buf's exit status when it reports breaking changes (any other failure is a tool error)."""


def breaking(repo: Path, image: Path, against: Path) -> list[Finding]:
    """Return buf breaking's findings for descriptor image ``image`` against image ``against``.

    ``repo`` holds ``buf.yaml``. Raises ToolchainError when buf fails other
    than by finding breaking changes.
    """
    paths = [argument for path in WIRE_PATHS for argument in ("--path", path)]
    result = toolchain.run_buf(
        [
            "breaking",
            str(image),
            "--against",
            str(against),
            "--config",
            "buf.yaml",
            "--error-format",
            "json",
            *paths,
        ],
        cwd=repo,
    )
    if result.returncode == 0:
        return []
    output = (result.stdout + result.stderr).strip()
    if result.returncode != _FINDINGS:
        raise ToolchainError(f"buf breaking failed:\n{output}")
    findings = []
    for line in result.stdout.splitlines():
        try:
            entry = json.loads(line)
            where = f"{entry['path']}:{entry['start_line']}:{entry['start_column']}"
            message = str(entry["message"]).split(" See https://", 1)[0]
            findings.append(Finding(REFUSED, where, f"buf {entry['type']}: {message}"))
        except (ValueError, KeyError, TypeError):
            raise ToolchainError(f"buf breaking failed:\n{output}") from None
    return findings
