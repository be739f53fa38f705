"""Which registry release this package holds, and the revision of each contract in it.

The distribution's version is ``R.M.P``: ``R`` is the registry release it was
built from (``registry/index.json``); ``M.P`` count fixes to this package's
own code that change no contract. Each contract has its own revision
(``r1``, ``r2``...), which moves only when that contract changes; ``+dev``
marks a build from unreleased contract changes.
"""

from __future__ import annotations

from importlib import metadata
from typing import Final

from ecom_contracts_pb.registry_revisions import CONTRACT_REVISIONS
from ecom_contracts_pb.registry_revisions import RELEASE as _GENERATED_RELEASE

DISTRIBUTION: Final = "ecom-contracts"
VERSION: Final = metadata.version(DISTRIBUTION)
"""This distribution's version, for example ``1.0.0``."""
RELEASE: Final = _GENERATED_RELEASE
"""The registry release the package was built from, for example ``1`` (the version's ``R``)."""


def revision(contract: str) -> str:
    """Return the registry revision of ``contract`` (full name) in this build, e.g. ``r1``.

    Empty for a name this build does not know.
    """
    return CONTRACT_REVISIONS.get(contract, "")
