"""The local-run layer: the ingestion pipeline streaming from Pub/Sub on Beam's DirectRunner.

What a local streaming run needs and Dataflow must not carry lives here,
composed around the pipeline's own graph (``pipeline.main.prepare``), which it
builds unchanged:

- the local Pub/Sub read: pulls of up to ``--direct_pubsub_batch`` messages
  that acknowledge nothing (:mod:`ops.local_pipeline.pulls`);
- the ack ids of what was pulled, by message, beside the records rather than
  in them (:mod:`ops.local_pipeline.deliveries`);
- acknowledgement once a message's outcome is durable, by wrappers around the
  warehouse sink and the dead-letter writers (:mod:`ops.local_pipeline.acknowledge`,
  put in place by :mod:`ops.local_pipeline.wrap`);
- :func:`run` and ``python -m ops.local_pipeline`` (:mod:`ops.local_pipeline.run`).

It may import ``pipeline``; ``pipeline`` never imports it.
"""

from ops.local_pipeline.run import main, run

__all__ = ["main", "run"]
