"""Coverage-guided fuzzing of the per-message path with atheris: ``make fuzz``.

Each input is split into attributes (contract, encoding) and a payload, run
through :func:`pipeline.process.process`, and checked by the same invariant as
the hypothesis tests. Seeded with valid messages of every contract.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from pipeline.record import PubsubRecord
    from tests.fuzz.test_fuzz_messages import check

CONTRACTS = [
    "ecom.events.v1.OrderEvent",
    "ecom.events.v1.InventoryEvent",
    "ecom.events.v1.UserActivityEvent",
    "ecom.events.v1.Unknown",
]


def one_input(data: bytes) -> None:
    """Check one fuzzer input."""
    provider = atheris.FuzzedDataProvider(data)
    attributes = {
        "ecom_contract": CONTRACTS[provider.ConsumeIntInRange(0, len(CONTRACTS) - 1)],
        "ecom_encoding": "JSON" if provider.ConsumeBool() else "BINARY",
    }
    check(PubsubRecord(provider.ConsumeBytes(provider.remaining_bytes()), attributes, "fuzz"))


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
