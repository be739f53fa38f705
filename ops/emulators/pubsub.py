"""Google's Pub/Sub emulator on a free loopback port.

It ships with the Google Cloud CLI (``gcloud components install pubsub-emulator``)
and needs Java. It does not support PROTOCOL_BUFFER schemas or BigQuery
subscriptions, so locally the pipeline's own contract check is the only
enforcement and raw landing is not exercised.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from ops.emulators.process import EmulatorProcess, EmulatorUnavailableError, free_port

VARIABLE = "PUBSUB_EMULATOR_HOST"


def find_emulator_jar() -> Path:
    """Return the emulator's jar, or raise EmulatorUnavailableError saying what is missing."""
    if shutil.which("java") is None:
        raise EmulatorUnavailableError("Java is not installed (the Pub/Sub emulator needs it)")
    roots = [os.environ.get("CLOUDSDK_ROOT", "")]
    gcloud = shutil.which("gcloud")
    if gcloud is not None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            roots.append(
                subprocess.run(
                    [gcloud, "info", "--format=value(installation.sdk_root)"],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=True,
                ).stdout.strip()
            )
        roots.append(str(Path(gcloud).resolve().parent.parent))
    for root in filter(None, roots):
        jars = sorted(
            Path(root).glob("platform/pubsub-emulator/lib/cloud-pubsub-emulator-*-all.jar")
        )
        if jars:
            return Path(jars[-1])
    if gcloud is None:
        raise EmulatorUnavailableError("the Google Cloud CLI (gcloud) is not installed")
    raise EmulatorUnavailableError(
        "the Pub/Sub emulator is not installed (gcloud components install pubsub-emulator)"
    )


class PubsubEmulator(EmulatorProcess):
    """A running Pub/Sub emulator; ``host`` is ``127.0.0.1:PORT`` (``PUBSUB_EMULATOR_HOST``)."""

    name = "Pub/Sub"

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        super().__init__(log_path)
        self.port = port or free_port()
        self.host = f"127.0.0.1:{self.port}"
        self._jar: Path | None = None

    def command(self) -> list[str]:
        """Run the emulator's jar directly (gcloud's wrapper adds seconds and a Python)."""
        if self._jar is None:
            self._jar = find_emulator_jar()
        return ["java", "-jar", str(self._jar), "--host=127.0.0.1", f"--port={self.port}"]

    def ports(self) -> list[int]:
        """Return the one gRPC port."""
        return [self.port]

    def environment(self) -> Mapping[str, str]:
        """``PUBSUB_EMULATOR_HOST``, which the Pub/Sub library and Beam's Pub/Sub I/O read."""
        return {VARIABLE: self.host}
