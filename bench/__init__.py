"""Benchmarks over a generated region of 100,000 systems on PostgreSQL (see bench/README.md)."""
