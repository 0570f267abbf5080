"""Sound and data: audio files, the log-mel front end and Griffin-Lim, the synthesizer, datasets, long audio in
windows, notes and MIDI.

May import: core (the layers are written in CONTRIBUTING.md and checked by `make test`).
"""
