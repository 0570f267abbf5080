"""The label classifier's recipe: its loss, its batches, and `minidcae train-classifier`.

    classifier_losses     cross-entropy on instrument plus cross-entropy on mode
    classifier_batches    step -> random crops of the synthetic training clips, drawn from (seed, step)
    train_classifier      trained on real (synthesized) mels only, never on generated ones;
                          measured on held-out seeds

The network and how it judges generated clips are minidcae.models.classifier. Taught in notebook 08 (conditioning).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from minidcae.core.checkpoint import save_model
from minidcae.core.config import ClassifierConfig
from minidcae.core.profiles import Profile, pick_device
from minidcae.models.classifier import LabelClassifier, accuracy, labelled_mels
from minidcae.sound.synth import INSTRUMENTS, MODES
from minidcae.training.recipe import Run, card_fields, fit, split_overrides


def classifier_losses(m: dict, batch: dict) -> dict:
    x = batch["mel"]  # (B, 1, n_mels, T)
    _, instrument, mode = m["classifier"](x)
    li = F.cross_entropy(instrument, batch["instrument"])
    lm = F.cross_entropy(mode, batch["mode"])
    return {"loss": li + lm, "instrument_loss": li.detach(), "mode_loss": lm.detach()}


def classifier_batches(mels, instruments, modes, cfg):
    """step -> a batch of random crops (crop_frames long) at random gains, drawn from (seed, step)."""

    def next_batch(step: int) -> dict:
        rng = np.random.default_rng([cfg.seed, step])
        idx = rng.integers(0, len(mels), cfg.batch_size)
        crop = min(cfg.crop_frames, mels.shape[-1])
        starts = rng.integers(0, mels.shape[-1] - crop + 1, cfg.batch_size)
        x = torch.stack([mels[i, :, :, s : s + crop] for i, s in zip(idx, starts)])  # (B, 1, n_mels, crop)
        return {"mel": x, "instrument": instruments[idx], "mode": modes[idx]}

    return next_batch


def train_classifier(
    out_dir,
    profile: Profile,
    run: Run = Run(),
) -> Path:
    """Train on synthetic training clips, measure on held-out ones, save out_dir/label_classifier.*

    run: settings, device, quiet and command (recipe.Run). The classifier trains in one short go and its
    card is its held-out accuracy, so run.resume=True and run.evaluate=False are refused."""
    if run.resume:
        raise ValueError("train_classifier cannot resume: it trains in one short go; leave run.resume False")
    if not run.evaluate:
        raise ValueError("train_classifier always measures held-out accuracy (its card); leave run.evaluate True")
    (fields,) = split_overrides(run.overrides or {}, {"TrainConfig": profile.classifier_train})
    cfg, mel, model_cfg = (
        replace(profile.classifier_train, **fields),
        profile.mel,
        ClassifierConfig(n_mels=profile.mel.n_mels),
    )
    out, device = Path(out_dir), pick_device(run.device)
    torch.manual_seed(cfg.seed)
    model = LabelClassifier(model_cfg)
    start = time.perf_counter()
    train = labelled_mels(cfg.n_clips, cfg.clip_seconds, mel, seed=cfg.seed)
    crop_seconds = cfg.crop_frames * mel.hop_length / mel.sample_rate
    batches = classifier_batches(*train, cfg)
    setup = dict(out_dir=out / "train", device=device, seconds_per_item=crop_seconds, quiet=run.quiet)
    fit("classifier", model, classifier_losses, cfg, batches, **setup)
    model.cpu().eval()
    heldout = labelled_mels(max(64, cfg.n_clips // 8), cfg.clip_seconds, mel, heldout=True)
    info = {
        **card_fields(run.command, "minidcae train-classifier", profile, cfg, mel, device, time.perf_counter() - start),
        "heldout_clips": len(heldout[0]),
        "heldout_accuracy": accuracy(model, *heldout),
        "chance": {"instrument": 1 / len(INSTRUMENTS), "mode": 1 / len(MODES)},
    }
    return save_model(out / "label_classifier", model, "label_classifier", model_cfg, info)
