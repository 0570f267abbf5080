"""Every nn.Module of the course, with the encoders of its inputs: the article's autoencoder, the DCAE and its
bottlenecks, attention, the latent transformer, the vocoder, the discriminators, the label classifier, miniCLAP,
the prompt encoders, norm layers.

May import: core, sound (the layers are written in CONTRIBUTING.md and checked by `make test`).
"""
