"""minidcae: a small, readable library for learning latent audio generation.

The modules follow the course (see README.md): config, audio, synth, data, metrics, viz, cli.
"""

__version__ = "0.1.0"
