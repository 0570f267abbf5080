"""What sits between encoder and decoder: plain, KL (a VAE's Gaussian) or VQ (a codebook).

Each bottleneck maps the encoder's output to the latent z the decoder sees, and returns the
extra loss it needs and figures worth watching:

    plain   z = h                                                  no extra loss
    kl      z = mu + sigma * eps,  loss = w * KL(N(mu, sigma) || N(0, 1))
    vq      z = nearest codebook vector (straight-through), loss = codebook + beta * commitment

Taught in notebook 02 (deep compression).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange

BOTTLENECKS = ("plain", "kl", "vq")


class PlainBottleneck(nn.Module):
    in_factor = 1  # the encoder emits latent_channels * in_factor channels

    def forward(self, h: torch.Tensor):
        return h, {}

    def mode(self, h: torch.Tensor) -> torch.Tensor:
        """The deterministic latent (what `encode` returns)."""
        return h


class KLBottleneck(nn.Module):
    """A diagonal Gaussian: the encoder emits mean and log-variance for every latent number."""

    in_factor = 2

    def __init__(self, weight: float = 1e-4):
        super().__init__()
        self.weight = weight

    def forward(self, h: torch.Tensor):
        mu, logvar = h.chunk(2, dim=1)  # (B, C, F, T) each
        logvar = logvar.clamp(-30.0, 20.0)
        # z = mu + sigma * eps  (the reparameterisation trick: gradients flow through mu and sigma)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if self.training else mu
        # KL(N(mu, sigma^2) || N(0, 1)) = 0.5 * (mu^2 + sigma^2 - 1 - log sigma^2), averaged per number
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean()
        return z, {"loss": self.weight * kl, "kl": kl.detach()}

    def mode(self, h: torch.Tensor) -> torch.Tensor:
        return h.chunk(2, dim=1)[0]


class VQBottleneck(nn.Module):
    """Each latent vector (all channels at one position) snaps to the nearest of K codebook vectors."""

    in_factor = 1

    def __init__(self, channels: int, codebook_size: int = 256, beta: float = 0.25):
        super().__init__()
        self.codebook = nn.Embedding(codebook_size, channels)
        nn.init.uniform_(self.codebook.weight, -1.0 / codebook_size, 1.0 / codebook_size)
        self.beta = beta

    def quantize(self, h: torch.Tensor):
        flat = rearrange(h, "b c f t -> (b f t) c")  # (N, C)
        # ||h - e_k||^2 = ||h||^2 - 2 h.e_k + ||e_k||^2 ; the nearest code minimises it
        dist = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ self.codebook.weight.T + self.codebook.weight.pow(2).sum(1)
        codes = dist.argmin(dim=1)  # (N,)
        q = rearrange(self.codebook(codes), "(b f t) c -> b c f t", b=h.shape[0], f=h.shape[2], t=h.shape[3])
        return q, codes

    def forward(self, h: torch.Tensor):
        q, codes = self.quantize(h)
        # codebook loss pulls codes to the encoder; commitment loss keeps the encoder near its codes
        loss = F.mse_loss(q, h.detach()) + self.beta * F.mse_loss(h, q.detach())
        z = h + (q - h).detach()  # straight-through: forward uses q, backward passes gradients to h
        counts = torch.bincount(codes, minlength=self.codebook.num_embeddings).float()
        p = counts / counts.sum()
        # perplexity = exp(entropy of code use): K if every code is used equally, 1 if one code is used
        perplexity = torch.exp(-(p * torch.log(p + 1e-10)).sum())
        usage = (counts > 0).float().mean()
        return z, {"loss": loss, "perplexity": perplexity.detach(), "codebook_usage": usage.detach()}

    def mode(self, h: torch.Tensor) -> torch.Tensor:
        return self.quantize(h)[0]


def make_bottleneck(kind: str, latent_channels: int, kl_weight: float = 1e-4, codebook_size: int = 256) -> nn.Module:
    if kind == "plain":
        return PlainBottleneck()
    if kind == "kl":
        return KLBottleneck(kl_weight)
    if kind == "vq":
        return VQBottleneck(latent_channels, codebook_size)
    raise ValueError(f"bottleneck must be one of {', '.join(BOTTLENECKS)}, got {kind!r}")
