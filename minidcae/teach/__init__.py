"""What a lesson shows: the exercise checker, the 2D toy, plots and widgets.

May import: every room below cli, but claims and bench (the layers are written in CONTRIBUTING.md and checked by `make test`).
"""
