"""Configs and profiles, errors, atomic files, checkpoints: what every other room stands on.

May import: nothing of minidcae's (the layers are written in CONTRIBUTING.md and checked by `make test`).
"""
