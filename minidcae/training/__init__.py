"""Training: the loop (Trainer), losses, flow matching, ranks under torchrun, the recipe skeleton and model cards.

May import: core, sound, models (the layers are written in CONTRIBUTING.md and checked by `make test`).
"""
