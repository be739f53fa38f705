"""Packaging shim for Dataflow's ``--setup_file``: the project is configured in pyproject.toml.

Dataflow runs ``python setup.py sdist`` on the launching machine and installs
the result (with the pinned dependencies) on every worker.
"""

from setuptools import setup

setup()
