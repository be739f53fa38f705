"""``python -m ops.local_pipeline``: a local streaming run (see ``--help``)."""

import sys

from ops.local_pipeline.run import main

sys.exit(main(sys.argv[1:]))
