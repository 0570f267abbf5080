"""How good it is: metrics by family, judges of generated audio, latent analysis, evaluation of reconstructions.

May import: core, sound, models, training, generation (the layers are written in CONTRIBUTING.md and checked by `make test`).
"""
