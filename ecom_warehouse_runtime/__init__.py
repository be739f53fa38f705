"""The hand-written run time of the generated warehouse package (``ecom_warehouse``).

``make proto`` generates ``ecom_warehouse`` (the row builders and the
artifacts as data); what that code calls at run time is written by hand and
lives here, beside it in the same distribution, so the arrows point one way:
``pipeline`` → ``ecom_warehouse`` → ``ecom_warehouse_runtime``. This package
imports nothing of the project.

- :mod:`ecom_warehouse_runtime.fact_rows`: fact rows and the conversion of
  contract values to BigQuery's JSON row values.
- :mod:`ecom_warehouse_runtime.schema_changes`: BigQuery's rules for
  changing a table's schema in place, as one diff of typed changes (the
  gate, ``ops.infra`` and the local warehouse render theirs from it).
"""
