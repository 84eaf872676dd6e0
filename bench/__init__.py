"""`make bench`: the service measured against baselines of the same run (BENCHMARKS.md)."""
