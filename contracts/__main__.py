"""``python -m contracts``: the contract toolchain's command line (:mod:`contracts.cli`)."""

import sys

from contracts.cli import main

sys.exit(main())
