"""From prompt to audio: sampling with guidance, the pipeline, editing (repaint, extend, retake).

May import: core, sound, models, training (the layers are written in CONTRIBUTING.md and checked by `make test`).
"""
