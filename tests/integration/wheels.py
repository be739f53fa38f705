"""Build a distribution's wheel as a release would, whatever the checkout's build/ folders hold."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def build_wheel(project: Path, outdir: Path) -> Path:
    """Build ``project``'s wheel into ``outdir`` and return it.

    setuptools packs everything under its build folder into the wheel, stale
    files of earlier builds included, so the build goes to a fresh folder beside
    ``outdir`` (``DIST_EXTRA_CONFIG``), never to the checkout's ``build/``.
    """
    base = outdir.parent / f"build-{project.name}"
    config = outdir.parent / f"build-{project.name}.cfg"
    config.write_text(f"[build]\nbuild_base = {base}\n")
    before = set(outdir.glob("*.whl"))
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(outdir),
         str(project)],
        check=True, capture_output=True, cwd=outdir.parent,
        env={**os.environ, "DIST_EXTRA_CONFIG": str(config)},
    )  # fmt: skip
    (wheel,) = set(outdir.glob("*.whl")) - before
    return wheel
