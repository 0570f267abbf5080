"""One `minidcae train-*` command each: its data, losses, phases and held-out card.

May import: core, sound, models, training, generation, measure (the layers are written in CONTRIBUTING.md and checked by `make test`).
"""
