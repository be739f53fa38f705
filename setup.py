"""Packaging shim for Dataflow's ``--setup_file``: the project is configured in pyproject.toml.

Dataflow runs ``python setup.py sdist`` on the launching machine and installs
the result (with the pinned dependencies) on every worker: the packages of
pyproject.toml's ``[tool.setuptools]``, which are what a worker runs (pipeline,
ecom_warehouse and its run time ecom_warehouse_runtime, the pipeline's generated
classes ecom_ingest_pb), never the contract
toolchain or the operations commands (contracts, ops: commands/pyproject.toml).
"""

from setuptools import setup

setup()
