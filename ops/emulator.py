"""Google's Pub/Sub emulator on a free loopback port, started and stopped by this process.

It ships with the Google Cloud CLI (``gcloud components install pubsub-emulator``)
and needs Java. It does not support PROTOCOL_BUFFER schemas, so locally the
pipeline's own contract check is the only enforcement.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType


class EmulatorUnavailableError(RuntimeError):
    """The emulator cannot be started here (no Google Cloud CLI, no emulator jar, no Java)."""


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


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, ask for SIGTERM when the parent dies.

    The emulator then never outlives the process that started it, even one
    killed without a chance to clean up.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PubsubEmulator:
    """A running emulator; use as a context manager. ``host`` is ``127.0.0.1:PORT``.

    While running, ``PUBSUB_EMULATOR_HOST`` points the Google client libraries
    (and Beam's Pub/Sub I/O) at it; the previous value is restored on exit.
    """

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._previous_env: str | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Start the emulator and wait until it accepts connections."""
        jar = find_emulator_jar()
        log = self.log_path.open("wb") if self.log_path else subprocess.DEVNULL
        self._process = subprocess.Popen(
            ["java", "-jar", str(jar), "--host=127.0.0.1", f"--port={self.port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmulatorUnavailableError(
                    f"the emulator exited with {self._process.returncode}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                break
            time.sleep(0.2)
        else:
            self.stop()
            raise EmulatorUnavailableError(
                f"the emulator did not listen on {self.host} in {timeout}s"
            )
        self._previous_env = os.environ.get("PUBSUB_EMULATOR_HOST")
        os.environ["PUBSUB_EMULATOR_HOST"] = self.host

    def stop(self) -> None:
        """Stop the emulator (by its process id) and restore the environment."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._previous_env is None:
            os.environ.pop("PUBSUB_EMULATOR_HOST", None)
        else:
            os.environ["PUBSUB_EMULATOR_HOST"] = self._previous_env

    def __enter__(self) -> PubsubEmulator:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def emulator(log_path: Path | None = None) -> Iterator[PubsubEmulator]:
    """Run an emulator for the duration of a ``with`` block."""
    with PubsubEmulator(log_path=log_path) as running:
        yield running
