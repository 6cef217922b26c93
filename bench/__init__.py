"""Benchmarks: run as modules, e.g. `.venv/bin/python -m bench.roster_bench`. Not tests."""
