"""A judge for generated music: a small CNN that hears instrument and mode in a log-mel.

    LabelClassifier      log-mel (B, 1, n_mels, T) -> embedding (B, E), instrument logits (B, 6), mode logits (B, 2)
    labelled_mels        synthetic clips (training or held-out seeds) -> mels and label indices
    train_classifier     `minidcae train-classifier`: trained on real (synthesized) mels only, never on generated ones
    predict / accuracy   labels and accuracy on any set of mels
    frechet_distance     ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between two sets of embeddings

A generator is judged by how often this classifier hears what the prompt asked for (conditional
accuracy), and by how far the cloud of generated embeddings sits from the cloud of real ones
(a Frechet distance, FAD-like but on our own embeddings: not comparable with published FAD).
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .audio import log_mel
from .checkpoint import load_model, save_model
from .config import CLASSIFIER_TRAIN, ClassifierConfig, MelConfig, Profile, parse_setting, pick_device
from .synth import HELDOUT_SEED_BASE, INSTRUMENTS, MODES, synth_clip
from .train import Trainer


class LabelClassifier(nn.Module):
    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        self.cfg = cfg
        layers, c = [], 1
        for w in cfg.widths:
            layers += [nn.Conv2d(c, w, 3, padding=1), nn.GroupNorm(min(8, w), w), nn.SiLU(), nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.embed = nn.Linear(2 * c, cfg.embed_dim)
        self.instrument = nn.Linear(cfg.embed_dim, len(INSTRUMENTS))
        self.mode = nn.Linear(cfg.embed_dim, len(MODES))

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
    Training seeds start at `seed`; held-out seeds at HELDOUT_SEED_BASE + seed."""
    base = HELDOUT_SEED_BASE + seed if heldout else seed
    if not heldout and base + n > HELDOUT_SEED_BASE:
        raise ValueError(f"training seeds reach the held-out range (from {HELDOUT_SEED_BASE})")
    mels, instruments, modes = [], [], []
    for i in range(n):
        wav, labels = synth_clip(base + i, seconds, mel.sample_rate)
        mels.append(log_mel(torch.from_numpy(wav)[None], mel))  # (1, n_mels, T)
        instruments.append(INSTRUMENTS.index(labels.instrument))
        modes.append(MODES.index(labels.mode))
    return torch.stack(mels), torch.tensor(instruments), torch.tensor(modes)


def classifier_losses(m: dict, batch: dict) -> dict:
    x = batch["mel"]  # (B, 1, n_mels, T)
    _, instrument, mode = m["classifier"](x)
    li = F.cross_entropy(instrument, batch["instrument"])
    lm = F.cross_entropy(mode, batch["mode"])
    return {"loss": li + lm, "instrument_loss": li.detach(), "mode_loss": lm.detach()}


def _batches(mels, instruments, modes, cfg):
    """step -> a batch of random crops (crop_frames long) at random gains, drawn from (seed, step)."""
    def next_batch(step: int) -> dict:
        rng = np.random.default_rng([cfg.seed, step])
        idx = rng.integers(0, len(mels), cfg.batch_size)
        crop = min(cfg.crop_frames, mels.shape[-1])
        starts = rng.integers(0, mels.shape[-1] - crop + 1, cfg.batch_size)
        x = torch.stack([mels[i, :, :, s:s + crop] for i, s in zip(idx, starts)])  # (B, 1, n_mels, crop)
        return {"mel": x, "instrument": instruments[idx], "mode": modes[idx]}
    return next_batch


@torch.no_grad()
def predict(model: LabelClassifier, mels: torch.Tensor, batch: int = 64):
    """(embeddings (N, E), instrument indices (N,), mode indices (N,)), on the CPU, for mels (N, 1, n_mels, T)
    on any device (they are moved to the model's)."""
    model.eval()
    device = next(model.parameters()).device
    out = [[t.cpu() for t in model(mels[i:i + batch].to(device).float())] for i in range(0, len(mels), batch)]
    e = torch.cat([o[0] for o in out])
    return e, torch.cat([o[1] for o in out]).argmax(-1), torch.cat([o[2] for o in out]).argmax(-1)


def accuracy(model: LabelClassifier, mels, instruments, modes) -> dict:
    _, pi, pm = predict(model, mels)
    return {"instrument": float((pi == instruments).float().mean()), "mode": float((pm == modes).float().mean())}


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to two sets of embeddings (N, E) and (M, E).

    Tr((S_a S_b)^(1/2)) = sum of sqrt(eigenvalues of S_a^(1/2) S_b S_a^(1/2)), a symmetric matrix
    with non-negative eigenvalues, so no complex square root is needed."""
    a, b = a.double(), b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)  # (E,)
    s_a, s_b = torch.cov(a.T), torch.cov(b.T)  # (E, E)
    vals, vecs = torch.linalg.eigh(s_a)
    root_a = vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T  # S_a^(1/2)
    cross = torch.linalg.eigvalsh(root_a @ s_b @ root_a).clamp(min=0).sqrt().sum()  # Tr((S_a S_b)^(1/2))
    return float((mu_a - mu_b).square().sum() + torch.trace(s_a) + torch.trace(s_b) - 2 * cross)


def train_classifier(out_dir, profile: Profile, overrides: dict | None = None, device=None, quiet: bool = False,
                     command: str | None = None) -> Path:
    """Train on synthetic training clips, measure on held-out ones, save out_dir/label_classifier.*"""
    from .autoencoder import hardware

    fields = {k: parse_setting(k, v, getattr(CLASSIFIER_TRAIN[profile.name], k)) for k, v in (overrides or {}).items()}
    cfg, mel, model_cfg = replace(CLASSIFIER_TRAIN[profile.name], **fields), profile.mel, ClassifierConfig(n_mels=profile.mel.n_mels)
    out, device = Path(out_dir), pick_device(device)
    torch.manual_seed(cfg.seed)
    model = LabelClassifier(model_cfg)
    start = time.perf_counter()
    train = labelled_mels(cfg.n_clips, cfg.clip_seconds, mel, seed=cfg.seed)
    trainer = Trainer({"classifier": model}, classifier_losses, {"loss": model}, cfg, out / "train", device,
                      cfg.crop_frames * mel.hop_length / mel.sample_rate, ema=("classifier",), quiet=quiet)
    trainer.fit(_batches(*train, cfg), cfg.steps)
    if trainer.emas:
        model.load_state_dict(trainer.emas["classifier"].state_dict())
    model.cpu().eval()
    heldout = labelled_mels(max(64, cfg.n_clips // 8), cfg.clip_seconds, mel, heldout=True)
    info = {"command": command or "minidcae train-classifier", "profile": profile.name, "train": asdict(cfg),
            "mel": asdict(mel), "hardware": hardware(), "device": str(device),
            "train_seconds": round(time.perf_counter() - start, 1),
            "heldout_clips": len(heldout[0]), "heldout_accuracy": accuracy(model, *heldout),
            "chance": {"instrument": 1 / len(INSTRUMENTS), "mode": 1 / len(MODES)}}
    return save_model(out / "label_classifier", model, "label_classifier", model_cfg, info)


def load_classifier(path, device="cpu") -> tuple[LabelClassifier, dict]:
    return load_model(path, {"label_classifier": (ClassifierConfig, LabelClassifier)}, device)
