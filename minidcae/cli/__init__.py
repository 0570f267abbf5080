"""The command line: parse, call the library, print; `make demo`'s pipeline and page.

May import: every room (the layers are written in CONTRIBUTING.md and checked by `make test`).
"""
