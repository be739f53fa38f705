"""One AppendRows connection to a table's default stream, with a bound on every request.

``AppendRows`` is a bidirectional gRPC stream: requests go out, one response
comes back per request, in order. Google's guidance is to keep a connection
for many appends rather than open one per write, so a sink keeps one per
table for as long as it runs, and this class sends one request at a time on
it and waits for that request's answer.

The client library offers two ways and neither fits. ``append_rows()`` (the
wrapped call) reads the first answer before it returns and, by default,
retries an unavailable service for up to a day; its stream manager
(``AppendRowsStream``) opens connections in background threads without a
deadline. Here the call is the transport's own gRPC method
(``client.transport.append_rows``, on the client :mod:`pipeline.endpoints`
makes): nothing is retried inside it, the call lives at most ``lifetime``
seconds (a new one is opened before it would expire), and each request
waits at most its ``timeout`` before the call is cancelled. Any failure
closes the connection, and the next request opens a new one. gRPC statuses
are raised as ``google.api_core`` exceptions (``ServiceUnavailable``,
``DeadlineExceeded``, ...), which :mod:`pipeline.sinks.outages` counts as
unavailability.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any, Final

import grpc
from google.api_core import exceptions

_END: Final = object()
"""Put on a call's request queue to half-close it."""


class _Call:
    """One open AppendRows call: its request queue and gRPC's response iterator."""

    def __init__(self, client: Any, stream: str, lifetime: float) -> None:
        self.requests: queue.Queue[Any] = queue.Queue()
        self.opened = time.monotonic()
        self.responses: Any = None
        # The routing header BigQuery needs to find the stream's region.
        metadata = (("x-goog-request-params", f"write_stream={stream}"),)
        self.responses = client.transport.append_rows(
            self._outgoing(), timeout=lifetime, metadata=metadata
        )

    def _outgoing(self) -> Iterator[Any]:
        # gRPC reads this in a thread of its own; it ends when the call is closed.
        while True:
            try:
                request = self.requests.get(timeout=5.0)
            except queue.Empty:
                if self.responses is not None and self.responses.done():
                    return
                continue
            if request is _END:
                return
            yield request

    def close(self) -> None:
        self.requests.put(_END)
        self.responses.cancel()


class AppendRowsConnection:
    """A long-lived AppendRows call on ``stream``, one request in flight at a time."""

    def __init__(self, client: Any, stream: str, lifetime: float = 600.0) -> None:
        self.client = client
        self.stream = stream
        self.lifetime = lifetime
        self._call: _Call | None = None

    def append(self, request: Any, timeout: float) -> Any:
        """Send ``request``; return its ``AppendRowsResponse`` within ``timeout`` seconds.

        Raises a ``google.api_core`` exception when the connection fails or no
        answer comes in time (``DeadlineExceeded``); the connection is then
        closed and the next request opens another.
        """
        call = self._open(timeout)
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            call.responses.cancel()

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        call.requests.put(request)
        timer.start()
        try:
            return next(call.responses)
        except grpc.RpcError as error:
            self.close()
            if expired.is_set():
                raise exceptions.DeadlineExceeded(
                    f"no answer to AppendRows on {self.stream} within {timeout:g} s"
                ) from None
            raise exceptions.from_grpc_error(error) from error
        except StopIteration:
            self.close()
            raise exceptions.ServiceUnavailable(
                f"the AppendRows call on {self.stream} ended without an answer"
            ) from None
        finally:
            timer.cancel()

    def _open(self, timeout: float) -> _Call:
        call = self._call
        ending = call is not None and time.monotonic() - call.opened > self.lifetime - timeout - 1
        if call is None or call.responses.done() or ending:
            self.close()
            call = self._call = _Call(self.client, self.stream, self.lifetime)
        return call

    def close(self) -> None:
        """End the call, if one is open."""
        if self._call is not None:
            self._call.close()
            self._call = None
