"""A local emulator as a child process: a free loopback port, readiness, stop by process id.

Every emulator the project starts (Pub/Sub, BigQuery, Cloud Storage) is a
child of the process that needs it, on ports free at the time, asked to die
with its parent, and named to the client libraries by an environment
variable (``PUBSUB_EMULATOR_HOST``, ``STORAGE_EMULATOR_HOST``,
``BIGQUERY_EMULATOR_HOST``) for as long as it runs. ``stop()`` then
``start()`` again restarts it on the same ports with the same data, which is
how the outage drills take a service away and give it back.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self


class EmulatorUnavailableError(RuntimeError):
    """An emulator cannot be started here; the message says what is missing."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_open(port: int) -> bool:
    """Return whether something accepts connections on ``127.0.0.1:port``."""
    with (
        contextlib.suppress(OSError),
        socket.create_connection(("127.0.0.1", port), timeout=0.5),
    ):
        return True
    return False


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, ask for SIGTERM when the parent dies.

    The emulator then never outlives the process that started it, even one
    killed without a chance to clean up. Linux sends the signal when the
    *thread* that started the child ends, so this is asked only by children of
    the main thread (an outage drill restarts an emulator from a thread of its own).
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EmulatorProcess:
    """An emulator child process; subclasses say how to start it and what it names.

    Use as a context manager, or ``start()``/``stop()``. While it runs, the
    variables of :meth:`environment` are set in ``os.environ`` (the client
    libraries and Beam read them); ``stop()`` restores what was there before.
    """

    name = "emulator"

    def __init__(self, log_path: Path | None = None) -> None:
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._previous_env: dict[str, str | None] = {}

    def command(self) -> list[str]:
        """Return the command line that starts the emulator."""
        raise NotImplementedError

    def ports(self) -> list[int]:
        """Return the ports the emulator listens on once ready."""
        raise NotImplementedError

    def environment(self) -> Mapping[str, str]:
        """Return the variables that name this emulator to the client libraries."""
        raise NotImplementedError

    def child_environment(self) -> Mapping[str, str]:
        """Return the environment of the child process (default: this process's)."""
        return os.environ

    def ready(self) -> bool:
        """Return whether the emulator answers (default: every port accepts connections)."""
        return all(port_open(port) for port in self.ports())

    @property
    def running(self) -> bool:
        """Whether the child process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 60.0) -> None:
        """Start the emulator, wait until it answers, and name it in ``os.environ``."""
        busy = [port for port in self.ports() if port_open(port)]
        if busy:
            raise EmulatorUnavailableError(f"the {self.name} emulator's port {busy[0]} is taken")
        command = self.command()
        with contextlib.ExitStack() as closing:
            log: Any = subprocess.DEVNULL
            if self.log_path:
                log = closing.enter_context(self.log_path.open("ab"))  # the child keeps its copy
            main_thread = threading.current_thread() is threading.main_thread()
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(self.child_environment()),
                start_new_session=True,
                preexec_fn=_die_with_parent if main_thread else None,
            )
        self._wait(timeout, self.ready)
        for variable, value in self.environment().items():
            self._previous_env.setdefault(variable, os.environ.get(variable))
            os.environ[variable] = value

    def _wait(self, timeout: float, ready: Callable[[], bool]) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                where = f" (its log: {self.log_path})" if self.log_path else ""
                raise EmulatorUnavailableError(
                    f"the {self.name} emulator exited with {code}{where}"
                )
            if ready():
                return
            time.sleep(0.2)
        self.stop()
        raise EmulatorUnavailableError(f"the {self.name} emulator did not answer in {timeout}s")

    def halt(self) -> None:
        """Stop the process only: the environment still names it (an outage, for drills).

        ``start()`` brings it back on the same ports; what it stores on disk is kept.
        """
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def stop(self) -> None:
        """Stop the emulator by its process id and restore the environment."""
        self.halt()
        for variable, value in self._previous_env.items():
            if value is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = value
        self._previous_env = {}

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
