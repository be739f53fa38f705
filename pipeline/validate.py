"""Stage 4, validate: check a decoded event against its contract's protovalidate rules.

The rules and their checker are the producers' (``ecom_contracts``): a producer's
check before publishing and this stage give the same answer. ``collect_violations``
is protovalidate's non-raising check, about 10 us an event.
"""

from __future__ import annotations

from ecom_contracts import Violation, collect_violations

__all__ = ["Violation", "collect_violations"]
