"""The local Pub/Sub read: pulls of up to a thousand messages that acknowledge nothing.

Beam's DirectRunner reads Pub/Sub (``ReadFromPubSub``, which the pipeline's
``ReadMessages`` applies) with an evaluator of its own that pulls ten messages
per bundle, waits up to 30 s on an idle subscription and acknowledges what it
pulls at once, so a killed run loses what it had pulled. For the
subscriptions a local run registers (:func:`pull_locally`), the evaluator's
read (``_PubSubReadEvaluator._read_from_pubsub``, private to Beam) pulls until
the bundle holds ``batch`` messages or the subscription has none ready,
returns at once when it is idle, and acknowledges nothing: each message's
ack id goes into the run's :class:`~ops.local_pipeline.deliveries.Deliveries`,
and is acknowledged once the message's outcome is durable. Any other
subscription keeps Beam's own read.

Why Beam's evaluator and not a source of our own: on the streaming
DirectRunner of Beam 2.77 a splittable DoFn does not expand (its
``GroupByKey`` "was not replaced as expected"), and ``ReadFromPubSub`` is what
makes the DirectRunner stream at all. ``tests/unit/test_local_pipeline.py``
holds the evaluator to the shape this module relies on, so a Beam upgrade
that changes it fails there, not in a run.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.direct import transform_evaluator
from apache_beam.utils.timestamp import Timestamp

from ops.local_pipeline.deliveries import AckId, Deliveries

PULL_TIMEOUT: Final = 2.0
"""Seconds one pull may take (it returns at once when nothing is ready)."""
_beams_read: Final[Callable[..., list[tuple[Timestamp, Any]]]] = (
    transform_evaluator._PubSubReadEvaluator._read_from_pubsub
)


class LocalPullOptions(PipelineOptions):
    """The local-run layer's own option, beside the pipeline's (``pipeline.options``)."""

    @classmethod
    def _add_argparse_args(cls, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--direct_pubsub_batch",
            type=int,
            default=1000,
            help="messages per local Pub/Sub read (one bundle; Beam's own reader pulls 10)",
        )


@dataclass(frozen=True)
class LocalPull:
    """How one subscription is read locally: messages per bundle, and where ack ids go."""

    batch: int
    deliveries: Deliveries


_pulls: dict[str, LocalPull] = {}
"""Subscriptions read locally, by full path: the DirectRunner builds its evaluators itself."""
_pulls_lock = threading.Lock()


def pull_locally(subscriptions: list[str], batch: int, deliveries: Deliveries) -> None:
    """Read ``subscriptions`` (full paths) with the local pulls from now on, in this process.

    A subscription registered again (a later run in the same process) takes
    the new settings.
    """
    with _pulls_lock:
        for subscription in subscriptions:
            _pulls[subscription] = LocalPull(batch, deliveries)
    transform_evaluator._PubSubReadEvaluator._read_from_pubsub = _read  # type: ignore[method-assign,assignment]


def _read(evaluator: Any, timestamp_attribute: Any) -> list[tuple[Timestamp, Any]]:
    """Pull one bundle's messages for ``evaluator``: the local pulls, or Beam's own read."""
    with _pulls_lock:
        local = _pulls.get(evaluator._sub_name)
    if local is None or timestamp_attribute:  # no timestamp attribute in this project
        return _beams_read(evaluator, timestamp_attribute)
    client = evaluator._get_subscriber_client(evaluator._applied_ptransform)
    return pull(client, evaluator._sub_name, local)


def pull(client: Any, subscription: str, local: LocalPull) -> list[tuple[Timestamp, Any]]:
    """Pull until ``local.batch`` messages are in hand or none is ready; acknowledge none.

    A pull answers at most what the server hands out at once (the emulator:
    100), and every bundle costs the runner as much as a hundred messages do,
    so the bundle is filled first. An empty subscription answers at once: an
    idle read must not keep the runner from the other subscriptions. Returns
    (publish time, message) pairs, as Beam's read does.
    """
    from apache_beam.io.gcp.pubsub import PubsubMessage
    from google.api_core import exceptions

    results: list[tuple[Timestamp, Any]] = []
    while len(results) < local.batch:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # return_immediately
                response = client.pull(
                    request={
                        "subscription": subscription,
                        "max_messages": local.batch - len(results),
                        "return_immediately": True,
                    },
                    timeout=PULL_TIMEOUT,
                )
        except exceptions.DeadlineExceeded:
            break
        for received in response.received_messages:
            message = PubsubMessage._from_message(received.message)
            local.deliveries.pulled(message.message_id, AckId(subscription, received.ack_id))
            published = Timestamp.from_utc_datetime(received.message.publish_time)
            results.append((published, message))
        if not response.received_messages:
            break
    return results
