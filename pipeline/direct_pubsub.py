"""Larger Pub/Sub pulls for Beam's DirectRunner (local runs only; Dataflow reads natively).

The DirectRunner's streaming Pub/Sub reader pulls ten messages per bundle,
which caps a local run near a hundred messages per second, and acknowledges
them as soon as they are pulled, so a killed run loses what it had pulled.
This swaps in a reader with a configurable pull size that does not
acknowledge: each message carries an ack token to the step that makes its
outcome durable (``pipeline/acks.py``).
"""

from __future__ import annotations

import warnings
from typing import Any

from apache_beam.runners.direct import transform_evaluator
from apache_beam.utils.timestamp import Timestamp

from pipeline import acks

_original = transform_evaluator._PubSubReadEvaluator._read_from_pubsub


def enlarge_pulls(max_messages: int = 1000, pull_timeout: float = 2.0) -> None:
    """Make the DirectRunner pull up to ``max_messages`` per bundle (idempotent)."""

    def read_from_pubsub(self: Any, timestamp_attribute: Any) -> list[tuple[Timestamp, Any]]:
        from apache_beam.io.gcp.pubsub import PubsubMessage

        if timestamp_attribute:  # not used by this project; keep Beam's own handling
            return _original(self, timestamp_attribute)
        from google.api_core import exceptions

        client = self._get_subscriber_client(self._applied_ptransform)
        results: list[tuple[Timestamp, Any]] = []
        # Pull until the bundle is full or the subscription has nothing more ready: a pull
        # answers at most what the server hands out at once (the emulator: 100), and every
        # bundle costs the runner as much as a hundred messages do.
        while len(results) < max_messages:
            try:
                # Return at once when the subscription is empty: an idle pull must not
                # hold the watermark (and with it the closing of dead-letter windows),
                # nor keep the runner from reading the other subscriptions.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    response = client.pull(
                        request={
                            "subscription": self._sub_name,
                            "max_messages": max_messages - len(results),
                            "return_immediately": True,
                        },
                        timeout=pull_timeout,
                    )
            except exceptions.DeadlineExceeded:
                break
            for received in response.received_messages:
                message = PubsubMessage._from_message(received.message)
                message.attributes[acks.ATTRIBUTE] = acks.token(self._sub_name, received.ack_id)
                published = Timestamp.from_utc_datetime(received.message.publish_time)
                results.append((published, message))
            if not response.received_messages:
                break
        return results

    transform_evaluator._PubSubReadEvaluator._read_from_pubsub = read_from_pubsub  # type: ignore[method-assign]
