"""Code generation from the event and warehouse contracts in ``proto/``.

``proto/`` is the only hand-written schema in the project. This package turns
it into everything else: Python classes (``generated/``), BigQuery JSON
schemas (``bq_schemas/``), BigQuery DDL (``sql/``), self-contained Pub/Sub
schema definitions (``pubsub_schemas/``) and the contract reference
(``docs/contracts.md``). Run it with ``make proto``; ``make check-generated``
fails when the committed outputs drift from ``proto/``. ``python -m contracts``
(:mod:`contracts.cli`) is the toolchain's one command line: ``generate``,
``check``, ``gate``, ``release``, ``bundle``, ``stamp``.
"""

from contracts.bigquery_schema import Column, Table, warehouse_tables
from contracts.ddl import render_ddl
from contracts.descriptors import ContractImage
from contracts.errors import ContractBuildError, ContractDefinitionError, DriftError, ToolchainError
from contracts.pubsub_schema import event_messages, render_pubsub_schema

__all__ = [
    "Column",
    "ContractBuildError",
    "ContractDefinitionError",
    "ContractImage",
    "DriftError",
    "Table",
    "ToolchainError",
    "event_messages",
    "render_ddl",
    "render_pubsub_schema",
    "warehouse_tables",
]
