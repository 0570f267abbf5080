"""Reconstruction and adversarial losses: what the autoencoder and the vocoder are trained to lower.

    l1 / l2                   on the normalised log-mel
    multi_resolution_mel_loss L1 between the two mels seen at several resolutions (average-pooled),
                              so coarse shape (loudness envelopes, formants) counts, not only pixels
    mel_spectral_convergence  || M_hat - M ||_F / || M ||_F on the linear magnitude mel: a loud bin
                              overshot by a little in the log is a big error in the sound
    hinge losses              D: relu(1 - D(real)) + relu(1 + D(fake));  G: -D(fake)
    feature matching          L1 between the discriminator's features of real and fake mels

The discriminators these adversarial losses score with live in minidcae.models.discriminators.
Taught in notebook 03 (training for real); the vocoder's use of them in notebook 05.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from minidcae.core.config import DEFAULT_MEL, MelConfig
from minidcae.sound.audio import log_mel_to_mel


def reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor, kind: str = "l1") -> torch.Tensor:
    if kind == "l1":
        return (x_hat - x).abs().mean()
    if kind == "l2":
        return (x_hat - x).pow(2).mean()
    raise ValueError(f"reconstruction loss must be 'l1' or 'l2', got {kind!r}")


def multi_resolution_mel_loss(x_hat: torch.Tensor, x: torch.Tensor, scales=(1, 2, 4, 8)) -> torch.Tensor:
    """Mean over scales s of L1(avgpool_s(x_hat), avgpool_s(x)) on (B, C, F, T) mels."""
    total = 0.0
    for s in scales:
        a = F.avg_pool2d(x_hat, s, ceil_mode=True) if s > 1 else x_hat  # (B, C, F/s, T/s)
        b = F.avg_pool2d(x, s, ceil_mode=True) if s > 1 else x
        total = total + (a - b).abs().mean()
    return total / len(scales)


def mel_spectral_convergence(x_hat: torch.Tensor, x: torch.Tensor, cfg: MelConfig = DEFAULT_MEL) -> torch.Tensor:
    """Spectral convergence of the magnitude mels behind two normalised log-mels (B, C, F, T)."""
    # M = exp(log_mel); the clamp keeps an untrained decoder's wild outputs from overflowing
    m_hat = log_mel_to_mel(x_hat.clamp(max=2.0), cfg)
    m = log_mel_to_mel(x, cfg)
    # SC = || M_hat - M ||_F / || M ||_F, per example, averaged over the batch
    return ((m_hat - m).flatten(1).norm(dim=1) / m.flatten(1).norm(dim=1).clamp(min=1e-8)).mean()


def discriminator_hinge_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    # L_D = E[relu(1 - D(real))] + E[relu(1 + D(fake))]
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def generator_hinge_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    # L_G = -E[D(fake)]
    return -fake_logits.mean()


def feature_matching_loss(real_features, fake_features) -> torch.Tensor:
    # L_FM = mean over layers of L1(D_l(fake), D_l(real)), real features held fixed
    return sum((f - r.detach()).abs().mean() for r, f in zip(real_features, fake_features)) / len(real_features)
