"""Stage 6, write: the warehouse sinks, chosen by ``--sink``."""
