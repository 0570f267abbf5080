"""A judge for generated music: a small CNN that hears instrument and mode in a log-mel.

    mel_cnn              conv, norm, SiLU, pool per level: the CNN the classifier and miniCLAP's audio tower share
    LabelClassifier      log-mel (B, 1, n_mels, T) -> embedding (B, E), instrument logits (B, 6), mode logits (B, 2);
                         .feature_maps: what each level hears, for a perceptual loss (notebook 13)
    labelled_mels        synthetic clips (training or held-out seeds, data.synth_clips) -> mels and label indices
    load_classifier      a checkpoint back into a LabelClassifier
    predict / accuracy   labels and accuracy on any set of mels

A generator is judged by how often this classifier hears what the prompt asked for (conditional
accuracy), and by how far the cloud of generated embeddings sits from the cloud of real ones
(a Frechet distance or KAD, FAD-like but on our own embeddings: not comparable with published FAD);
minidcae.measure.obedience.judge does both, with minidcae.measure.distances.
Its recipe, `minidcae train-classifier`, is minidcae.recipes.classifier. Taught in notebook 08 (conditioning).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from minidcae.core.checkpoint import load_model
from minidcae.core.config import ClassifierConfig, MelConfig
from minidcae.sound.audio import log_mel
from minidcae.sound.data import synth_clips
from minidcae.sound.synth import INSTRUMENTS, MODES


def mel_cnn(widths: tuple[int, ...], in_channels: int = 1) -> nn.Sequential:
    """(B, in_channels, n_mels, T) -> (B, widths[-1], n_mels / 2^L, T / 2^L), L = len(widths): per level a 3x3
    convolution to widths[l], GroupNorm, SiLU, and a 2x2 max pool. The classifier's features and miniCLAP's
    audio tower both start with it."""
    layers, c = [], in_channels
    for w in widths:
        layers += [nn.Conv2d(c, w, 3, padding=1), nn.GroupNorm(min(8, w), w), nn.SiLU(), nn.MaxPool2d(2)]
        c = w
    return nn.Sequential(*layers)


class LabelClassifier(nn.Module):
    """log-mel (B, 1, n_mels, T) -> (embedding (B, E), instrument logits (B, 6), mode logits (B, 2))."""

    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        self.cfg = cfg
        self.features = mel_cnn(cfg.widths)  # (B, 1, n_mels, T) -> (B, c, n_mels / 2^L, T / 2^L)
        self.embed = nn.Linear(2 * cfg.widths[-1], cfg.embed_dim)
        self.instrument = nn.Linear(cfg.embed_dim, len(INSTRUMENTS))
        self.mode = nn.Linear(cfg.embed_dim, len(MODES))

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each level's activation (B, w_l, n_mels / 2^l, T / 2^l) and the embedding (B, E): the features a
        perceptual loss compares (losses.feature_matching_loss), from edges up to what the labels need."""
        maps, h = [], x
        for layer in self.features:
            h = layer(h)
            if isinstance(layer, nn.SiLU):  # after conv, norm, activation; before the level's pooling
                maps.append(h)
        return maps + [self.embedding(x)]

    def embedding(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)  # (B, c, n_mels / 2^L, T / 2^L)
        # mean and max over frequency and time: any clip length gives one vector
        pooled = torch.cat((h.mean(dim=(2, 3)), h.amax(dim=(2, 3))), dim=1)  # (B, 2c)
        return self.embed(pooled)  # (B, E)

    def forward(self, x: torch.Tensor):
        e = self.embedding(x)  # (B, E)
        return e, self.instrument(F.silu(e)), self.mode(F.silu(e))  # (B, E), (B, 6), (B, 2)


def labelled_mels(n: int, seconds: float, mel: MelConfig, heldout: bool = False, seed: int = 0):
    """(mels (n, 1, n_mels, T), instrument indices (n,), mode indices (n,)) of synthetic clips.
    Training seeds start at `seed`; held-out seeds at HELDOUT_SEED_BASE + seed (data.synth_clips)."""
    mels, instruments, modes = [], [], []
    for _, wav, labels in synth_clips(n, seconds, mel.sample_rate, seed, heldout):
        mels.append(log_mel(wav, mel))  # (1, n_mels, T)
        instruments.append(INSTRUMENTS.index(labels.instrument))
        modes.append(MODES.index(labels.mode))
    return torch.stack(mels), torch.tensor(instruments), torch.tensor(modes)


@torch.no_grad()
def predict(model: LabelClassifier, mels: torch.Tensor, batch: int = 64):
    """(embeddings (N, E), instrument indices (N,), mode indices (N,)), on the CPU, for mels (N, 1, n_mels, T)
    on any device (they are moved to the model's)."""
    model.eval()
    device = next(model.parameters()).device
    out = [[t.cpu() for t in model(mels[i : i + batch].to(device).float())] for i in range(0, len(mels), batch)]
    e = torch.cat([o[0] for o in out])
    return e, torch.cat([o[1] for o in out]).argmax(-1), torch.cat([o[2] for o in out]).argmax(-1)


def accuracy(model: LabelClassifier, mels, instruments, modes) -> dict:
    _, pi, pm = predict(model, mels)
    return {"instrument": float((pi == instruments).float().mean()), "mode": float((pm == modes).float().mean())}


def load_classifier(path, device="cpu") -> tuple[LabelClassifier, dict]:
    """(model, meta) from a checkpoint `minidcae train-classifier` wrote."""
    return load_model(path, {"label_classifier": (ClassifierConfig, LabelClassifier)}, device)
