"""``python -m ecom_contracts``: the ``ecom-contracts`` command line."""

from ecom_contracts._cli import run

run()
