"""Discriminators: the critics of the adversarial phases, each returning (features, logits map).

    PatchGAN                      scores each receptive-field patch of a (B, C, F, T) log-mel real or
                                  fake: the autoencoder's phase two (as ACE-Step's DCAE recipe)
    SpectrogramDiscriminator      scores the log-magnitude STFT of a waveform at one resolution
    MultiResolutionDiscriminator  one SpectrogramDiscriminator per STFT resolution: the vocoder's phase two

Both keep every convolution spectrally normalised (its largest singular value held at 1), so
the critic stays smooth and the hinge losses of minidcae.training.losses stay well behaved.
Taught in notebook 03 (the PatchGAN) and notebook 05 (the vocoder's discriminator).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange
from torch.nn.utils import spectral_norm

from minidcae.sound.audio import STFT_RESOLUTIONS, stft_magnitude


class PatchGAN(nn.Module):
    """Scores each receptive-field patch of a (B, C, F, T) mel; returns (features, logits map)."""

    def __init__(self, in_channels: int = 1, width: int = 32, layers: int = 3):
        super().__init__()
        blocks, c = [], in_channels
        for i in range(layers):
            out = width * 2**i
            blocks.append(nn.Sequential(spectral_norm(nn.Conv2d(c, out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)))
            c = out
        self.blocks = nn.ModuleList(blocks)
        self.logits = spectral_norm(nn.Conv2d(c, 1, 3, padding=1))

    def forward(self, x: torch.Tensor):
        features = []
        for block in self.blocks:
            x = block(x)  # (B, width 2^i, F / 2^(i+1), T / 2^(i+1))
            features.append(x)
        return features, self.logits(x)  # logits: (B, 1, F / 2^layers, T / 2^layers)


class SpectrogramDiscriminator(nn.Module):
    """Scores the log-magnitude STFT of a waveform at one resolution, as a (B, 1, freqs, frames)
    image: strided convolutions along frequency; returns (features, logits map)."""

    def __init__(self, n_fft: int, hop: int, width: int = 8, layers: int = 4):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        convs, c = [], 1
        for _ in range(layers):
            convs.append(spectral_norm(nn.Conv2d(c, width, (9, 3), stride=(2, 1), padding=(4, 1))))
            c = width
        self.convs = nn.ModuleList(convs)
        self.logits = spectral_norm(nn.Conv2d(c, 1, 3, padding=1))

    def forward(self, wav: torch.Tensor):
        s = torch.log(stft_magnitude(wav, self.n_fft, self.hop, eps=1e-12).clamp(min=1e-5))  # (B, C, F, T)
        h = rearrange(s, "b c f t -> (b c) 1 f t")  # (B C, 1, F, T)
        features = []
        for conv in self.convs:
            h = F.leaky_relu(conv(h), 0.2)  # (B C, width, F / 2^(i+1), T)
            features.append(h)
        return features, self.logits(h)  # logits: (B C, 1, F / 2^layers, T)


class MultiResolutionDiscriminator(nn.Module):
    """One SpectrogramDiscriminator per STFT resolution; features and logits come back as lists."""

    def __init__(self, resolutions=STFT_RESOLUTIONS, width: int = 8):
        super().__init__()
        self.discs = nn.ModuleList(SpectrogramDiscriminator(n, h, width) for n, h in resolutions)

    def forward(self, wav: torch.Tensor):
        outs = [d(wav) for d in self.discs]
        return [f for feats, _ in outs for f in feats], [logits for _, logits in outs]
