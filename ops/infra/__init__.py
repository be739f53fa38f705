"""The Google Cloud infrastructure of the pipeline, derived from the contracts.

``python -m ops.infra --project P --region R [--dry-run]`` builds a plan (every
request, as data, from ``pubsub_schemas/``, ``sql/`` and the catalogue of
contracts) and applies it idempotently with the Google Cloud client libraries.
"""
