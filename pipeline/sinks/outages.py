"""When the warehouse cannot be written, and how long a sink keeps trying before it says so.

A BigQuery request fails as a whole in two ways that are not the data's fault:
the service answered with an error status, or the request never got an
answer. Each client library reports the second its own way, so the sinks
recognise all of them here:

====================================== =====================================================
``google.api_core`` ``GoogleAPICallError`` any status BigQuery answered (5xx, 429, a missing
                                       table, a permission denied: each can heal), and gRPC
                                       statuses turned into it (UNAVAILABLE, DEADLINE_EXCEEDED)
``google.api_core`` ``RetryError``     a library's own retry gave up
``grpc.RpcError``                      a gRPC status not yet turned into the above
``requests`` ``ConnectionError``,      the REST client's transport: connection refused or
``Timeout``, ``ChunkedEncodingError``  reset, DNS, TLS, no answer in time, a body cut short
                                       (``requests.exceptions.ConnectionError`` is *not*
                                       the built-in ``ConnectionError``)
``google.auth`` ``TransportError``     fetching an access token failed in transport
built-in ``ConnectionError``,          sockets and ``http.client``
``TimeoutError``
====================================== =====================================================

A sink retries such a failure with exponential backoff a bounded number of
times (:class:`Retries`), then dead-letters the unwritten messages as
``sink_unavailable`` so a streaming job keeps moving. While a table is
unavailable, later batches for it try once for ``hold_seconds``, so an outage
costs one retry cycle, not one per bundle. Anything else is a programming
error and fails the bundle.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Final


def _unavailable_types() -> tuple[type[BaseException], ...]:
    import google.auth.exceptions
    import grpc
    import requests.exceptions
    from google.api_core import exceptions as api_core

    return (
        api_core.GoogleAPICallError,
        api_core.RetryError,
        grpc.RpcError,
        requests.exceptions.ConnectionError,
        requests.exceptions.Timeout,
        requests.exceptions.ChunkedEncodingError,
        google.auth.exceptions.TransportError,
        ConnectionError,
        TimeoutError,
    )


UNAVAILABLE: Final = _unavailable_types()
"""The exception types that mean a request failed as a whole, not because of its rows."""


def is_unavailable(error: BaseException) -> bool:
    """Return whether ``error`` means the warehouse could not take a request right now."""
    return isinstance(error, UNAVAILABLE)


def describe(error: BaseException) -> str:
    """Return ``error`` as one short line for a dead letter's detail."""
    return f"{type(error).__name__}: {error}".splitlines()[0][:300]


class Retries:
    """Bounded attempts with exponential backoff and jitter, and a hold per unavailable table.

    ``max_attempts`` requests at most per batch (one while the table is held);
    between attempts ``base_delay * 2**(n-1)`` seconds, plus up to half again.
    """

    def __init__(
        self,
        max_attempts: int = 5,
        base_delay: float = 0.5,
        hold_seconds: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.hold_seconds = hold_seconds
        self.sleep = sleep
        self._held_until: dict[str, float] = {}

    def attempts(self, table: str) -> int:
        """Return how many requests a batch for ``table`` may make now."""
        held = time.monotonic() < self._held_until.get(table, 0.0)
        return 1 if held else self.max_attempts

    def back_off(self, attempt: int) -> None:
        """Wait before attempt ``attempt + 1``."""
        self.sleep(self.base_delay * 2 ** (attempt - 1) * (1 + random.random() / 2))

    def gave_up(self, table: str) -> None:
        """Record that ``table`` could not be written: hold it for ``hold_seconds``."""
        self._held_until[table] = time.monotonic() + self.hold_seconds

    def wrote(self, table: str) -> None:
        """Record that ``table`` took a request: end its hold."""
        self._held_until.pop(table, None)

    def longest_wait(self, request_timeout: float) -> float:
        """Return the most time a batch can spend failing (every request timing out)."""
        waits = sum(self.base_delay * 2.0 ** (n - 1) * 1.5 for n in range(1, self.max_attempts))
        return self.max_attempts * request_timeout + waits
