"""Stage 4, validate: check a decoded event against its contract's protovalidate rules.

The rules and their checker are the producers' (``ecom_contracts``): a producer's
check before publishing and this stage give the same answer. ``collect_violations``
runs the code ``make proto`` compiles from the rules (protovalidate's violations, in
its order and words; about 1.5 us for a valid event) and raises nothing. While it
runs as generated code, the model stage's checking builder recognises a valid event
as it reads it (``pipeline.model.model_if_valid``), and this stage is asked only
which rules an event it refused breaks.
"""

from __future__ import annotations

from ecom_contracts import Violation, collect_violations

__all__ = ["Violation", "collect_violations"]
