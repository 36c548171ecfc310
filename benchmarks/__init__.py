"""Benchmarks that print figures, run from the course folder: ``python -m benchmarks.bench_helpers``."""
