"""Scripts and benchmarks beside the package; not installed."""
