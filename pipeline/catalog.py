"""The known event contracts: what a message can be routed to and how it is decoded.

They are the producers' own (``ecom_contracts``, the ecom-contracts distribution),
so the pipeline and every producer hold one copy of the classes.
"""

from __future__ import annotations

from ecom_contracts import BY_NAME, BY_SCHEMA_ID, CONTRACTS, Contract

__all__ = ["BY_NAME", "BY_SCHEMA_ID", "CONTRACTS", "Contract"]
