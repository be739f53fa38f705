"""Operating the system: synthetic traffic, publishing, the local run, benchmarks."""
