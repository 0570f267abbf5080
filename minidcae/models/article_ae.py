"""The seed article's autoencoder, made to run.

The article squeezes a log-mel "image" through three strided convolutions and one linear layer
into a single latent vector, then mirrors that back up:

    x (B, 1, F, T) -> 3 x [Conv2d stride 2, BatchNorm, ReLU] -> flatten -> Linear -> z (B, latent_dim)
    z -> Linear -> reshape (128, F/8, T/8) -> 3 x ConvTranspose2d stride 2 -> sigmoid -> x_hat (B, 1, F, T)

As printed it cannot run: its encoder's Linear expects 128 * 16 * 4 features, but a 128 x 64
input gives 128 x 16 x 8 after three halvings (and its own decoder reshapes to (128, 16, 8)).
Here the sizes are computed from (n_mels, frames); `article_ae_as_printed()` keeps the bug.
The interface is DCAE's (encode, decode, forward -> (x_hat, aux)), so minidcae.training.trainer trains it.

Taught in notebook 01 (the article autoencoder).
"""

from __future__ import annotations

import torch
import torch.nn as nn
from einops import rearrange


def down(c_in: int, c_out: int) -> nn.Sequential:
    # kernel 4, stride 2, padding 1: out = (n + 2 - 4) / 2 + 1 = n / 2
    return nn.Sequential(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())


def up(c_in: int, c_out: int, last: bool = False) -> nn.Sequential:
    # kernel 4, stride 2, padding 1: out = (n - 1) * 2 - 2 + 4 = 2 n
    conv = nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1)
    return nn.Sequential(conv) if last else nn.Sequential(conv, nn.BatchNorm2d(c_out), nn.ReLU())


class ArticleAE(nn.Module):
    """Conv encoder -> one latent vector -> conv decoder, for inputs of exactly (n_mels, frames)."""

    def __init__(
        self,
        n_mels: int = 64,
        frames: int = 64,
        latent_dim: int = 64,
        widths=(32, 64, 128),
        flat_features: int | None = None,
        unflatten_shape: tuple[int, int, int] | None = None,
    ):
        super().__init__()
        shrink = 2 ** len(widths)
        if (flat_features is None or unflatten_shape is None) and (n_mels % shrink or frames % shrink):
            raise ValueError(
                f"n_mels and frames must be multiples of {shrink} (one halving per conv), got {n_mels} x {frames}"
            )
        self.n_mels, self.frames, self.latent_dim = n_mels, frames, latent_dim
        # what the last conv really outputs: widths[-1] channels of (F / 8, T / 8)
        self.unflatten_shape = unflatten_shape or (widths[-1], n_mels // shrink, frames // shrink)
        flat_out = self.unflatten_shape[0] * self.unflatten_shape[1] * self.unflatten_shape[2]
        flat_in = flat_features or widths[-1] * (n_mels // shrink) * (frames // shrink)
        chans = (1, *widths)
        self.encoder = nn.Sequential(*[down(a, b) for a, b in zip(chans[:-1], chans[1:])])
        self.to_latent = nn.Linear(flat_in, latent_dim)
        self.from_latent = nn.Linear(latent_dim, flat_out)
        ups = list(zip(chans[:0:-1], chans[-2::-1]))  # (128, 64), (64, 32), (32, 1)
        self.decoder = nn.Sequential(*[up(a, b, last=(i == len(ups) - 1)) for i, (a, b) in enumerate(ups)])

    def latent_numbers(self) -> int:
        """How many numbers stand for one (n_mels x frames) mel."""
        return self.latent_dim

    def check_input(self, x: torch.Tensor) -> None:
        if tuple(x.shape[-2:]) != (self.n_mels, self.frames):
            raise ValueError(
                f"ArticleAE takes a fixed input length: it was built for {self.n_mels} mels x "
                f"{self.frames} frames, got {x.shape[-2]} mels x {x.shape[-1]} frames "
                f"(its linear layer fixes the size; crop or pad to {self.frames} frames)"
            )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, n_mels, frames) -> z (B, latent_dim)."""
        self.check_input(x)
        h = self.encoder(x)  # (B, 128, F/8, T/8)
        h = rearrange(h, "b c f t -> b (c f t)")  # (B, 128 F/8 T/8)
        return self.to_latent(h)  # (B, latent_dim)

    def decode(self, z: torch.Tensor, shape: tuple[int, int] | None = None) -> torch.Tensor:
        """z (B, latent_dim) -> x_hat (B, 1, n_mels, frames); `shape` is for DCAE's interface and must match."""
        if shape is not None and tuple(shape) != (self.n_mels, self.frames):
            raise ValueError(f"ArticleAE always decodes {self.n_mels} x {self.frames}, asked for {tuple(shape)}")
        c, f, t = self.unflatten_shape
        h = rearrange(self.from_latent(z), "b (c f t) -> b c f t", c=c, f=f, t=t)  # (B, 128, F/8, T/8)
        logits = self.decoder(h)  # (B, 1, F, T)
        # The article ends in a sigmoid, made for images in [0, 1]; our log-mels live in about
        # [-1, 1], so we stretch it: x_hat = 2 sigmoid(logits) - 1, in (-1, 1).
        return 2 * torch.sigmoid(logits) - 1  # (B, 1, F, T)

    def forward(self, x: torch.Tensor):
        """Reconstruct x; returns (x_hat, {}): no bottleneck loss, an empty aux dict as DCAE's."""
        return self.decode(self.encode(x)), {}


def article_ae_as_printed() -> ArticleAE:
    """The article's numbers exactly: a 128 x 64 input, Linear(128 * 16 * 4, 64), reshape (128, 16, 8).
    Calling it on a (1, 1, 128, 64) mel raises RuntimeError: mat1 and mat2 shapes cannot be multiplied."""
    return ArticleAE(n_mels=128, frames=64, latent_dim=64, flat_features=128 * 16 * 4, unflatten_shape=(128, 16, 8))


def parameter_breakdown(model: nn.Module) -> dict[str, int]:
    """Parameters in conv layers, linear layers and BatchNorm layers (they sum to the model's total)."""
    kinds = {"conv": (nn.Conv2d, nn.ConvTranspose2d), "linear": (nn.Linear,), "batchnorm": (nn.BatchNorm2d,)}
    counts = {name: 0 for name in kinds}
    for module in model.modules():
        for name, types in kinds.items():
            if isinstance(module, types):
                counts[name] += sum(p.numel() for p in module.parameters(recurse=False))
    return counts
