"""The seed article's claims as experiments, each with its rule and verdict.

May import: every room below cli, but bench and teach (the layers are written in CONTRIBUTING.md and checked by `make test`).
"""
