"""Local implementations of the Google Cloud APIs the project uses, as child processes.

- Pub/Sub: Google's emulator (:mod:`ops.emulators.pubsub`; Java, from the Google Cloud CLI)
- BigQuery: ``local-bigquery`` (:mod:`ops.emulators.bigquery`; Python 3.13, installed by
  ``python -m ops.emulators install``)
- Cloud Storage: ``gcp-storage-emulator`` (:mod:`ops.emulators.storage`; in the dev install)

What none of them answers (IAM, Monitoring, Artifact Registry, Pub/Sub schemas,
BigQuery subscriptions) is reported as skipped where a tool would call it.
"""

from ops.emulators.bigquery import BigQueryEmulator
from ops.emulators.process import EmulatorProcess, EmulatorUnavailableError, free_port
from ops.emulators.pubsub import PubsubEmulator, find_emulator_jar
from ops.emulators.storage import StorageEmulator

__all__ = [
    "BigQueryEmulator",
    "EmulatorProcess",
    "EmulatorUnavailableError",
    "PubsubEmulator",
    "StorageEmulator",
    "find_emulator_jar",
    "free_port",
]
