"""The checkout the contract toolchain works in: its root and the paths it reads by name."""

from __future__ import annotations

from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parent.parent
"""Root of this checkout: the default ``--repo`` of every ``python -m contracts`` command."""
PROTO: Final = "proto"
"""The contracts, relative to a repository root."""
BUF_CONFIG: Final = "buf.yaml"
"""buf's configuration (lint and breaking rules), relative to a repository root."""
