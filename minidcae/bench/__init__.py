"""Speed, measured side by side in one run (benchmarks/ and tools/gpu_check.py print it).

May import: every room below cli, but claims and teach (the layers are written in CONTRIBUTING.md and checked by `make test`).
"""
