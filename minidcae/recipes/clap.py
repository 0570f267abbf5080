"""miniCLAP's recipe: its loss, its batches, its held-out retrieval test, and `minidcae train-clap`.

    clap_losses        symmetric InfoNCE between a batch of clips and their phrasings (clap.info_nce)
    clap_batches       step -> random crops of the training clips, each with a training phrasing drawn at random
    heldout_set        the 72 held-out clips (one per instrument x mode x tempo word x drums) and their labels
    retrieval_report   retrieval both ways on those clips, captioned with held-out and with training phrasings
    train_clap         train on synthetic training clips, then measure retrieval; the card holds the figures

The model is minidcae.models.clap.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from minidcae.core.checkpoint import save_model
from minidcae.core.config import MelConfig
from minidcae.core.profiles import Profile, pick_device
from minidcae.measure.retrieval import chance_metrics, retrieval_metrics
from minidcae.models.clap import MiniClap, embed_mels, info_nce
from minidcae.models.phrasings import describe, heldout_combinations
from minidcae.sound.audio import log_mel
from minidcae.sound.synth import first_seed, synth_clip
from minidcae.training.recipe import Run, card_fields, fit, split_overrides


def clap_losses(m: dict, batch: dict) -> dict:
    model = m["clap"]
    audio = model.embed_audio(batch["mel"])  # (B, E)
    text = model.embed_text(batch["prompts"])  # (B, E)
    loss = info_nce(audio, text, model.scale())
    return {"loss": loss, "temperature": 1 / model.scale().detach()}


def synth_mels(seeds, seconds: float, mel: MelConfig, overrides=None):
    """(mels (N, 1, n_mels, T), labels [ClipLabels]) of synthetic clips; overrides[i] fixes clip i's labels."""
    mels, labels = [], []
    for i, seed in enumerate(seeds):
        wav, lab = synth_clip(seed, seconds, mel.sample_rate, **(overrides[i] if overrides else {}))
        mels.append(log_mel(torch.from_numpy(wav)[None], mel))  # (1, n_mels, T)
        labels.append(lab)
    return torch.stack(mels), labels


def clap_batches(mels, labels, cfg):
    """step -> {"mel": random crops (B, 1, n_mels, crop), "prompts": a training phrasing per clip},
    drawn from (seed, step)."""

    def next_batch(step: int) -> dict:
        rng = np.random.default_rng([cfg.seed, step])
        idx = rng.choice(len(mels), cfg.batch_size, replace=False)
        crop = min(cfg.crop_frames, mels.shape[-1])
        starts = rng.integers(0, mels.shape[-1] - crop + 1, cfg.batch_size)
        x = torch.stack([mels[i, :, :, s : s + crop] for i, s in zip(idx, starts)])  # (B, 1, n_mels, crop)
        return {"mel": x, "prompts": [describe(labels[i], rng, "train") for i in idx]}

    return next_batch


def heldout_set(seconds: float, mel: MelConfig, seed: int = 0):
    """(mels (72, 1, n_mels, T), labels): one held-out clip per label combination, seeds from
    synth.first_seed(seed, 72, heldout=True)."""
    combos = heldout_combinations(first_seed(seed, 72, heldout=True))
    overrides = [{k: c[k] for k in ("instrument", "mode", "tempo", "drums")} for c in combos]
    return synth_mels([c["seed"] for c in combos], seconds, mel, overrides)


@torch.no_grad()
def retrieval_report(model: MiniClap, mels, labels, seed: int = 0) -> dict:
    """Retrieval both ways on the clips, captioned once with held-out phrasings and once with training
    phrasings (complete: tempo word and drums always said), beside chance."""
    model.eval()
    audio = embed_mels(model, mels)  # (N, E)
    report = {"clips": len(labels), "chance": chance_metrics(len(labels))}
    for split in ("heldout", "train"):
        rng = np.random.default_rng([seed, 1 if split == "heldout" else 2])
        prompts = [describe(lab, rng, split, complete=True) for lab in labels]
        text = model.embed_text(prompts).cpu()  # (N, E)
        report[f"{split}_phrasings"] = {**retrieval_metrics(audio @ text.T), "examples": prompts[:4]}
    return report


def train_clap(out_dir, profile: Profile, run: Run = Run()) -> Path:
    """Train miniCLAP on synthetic training clips and their training phrasings, then measure retrieval
    on 72 held-out clips; save out_dir/clap.*. Like train_classifier it trains in one go: no resume."""
    if run.resume:
        raise ValueError("train_clap cannot resume: it trains in one short go; leave run.resume False")
    if not run.evaluate:
        raise ValueError("train_clap always measures held-out retrieval (its card); leave run.evaluate True")
    train_fields, clap_fields = split_overrides(
        run.overrides or {}, {"TrainConfig": profile.clap_train, "ClapConfig": profile.clap}
    )
    cfg, mel = replace(profile.clap_train, **train_fields), profile.mel
    model_cfg = replace(profile.clap, **clap_fields, n_mels=mel.n_mels)
    out, device = Path(out_dir), pick_device(run.device)
    torch.manual_seed(cfg.seed)
    model = MiniClap(model_cfg)
    start = time.perf_counter()
    base = first_seed(cfg.seed, cfg.n_clips)
    mels, labels = synth_mels(range(base, base + cfg.n_clips), cfg.clip_seconds, mel)
    if cfg.batch_size > len(mels):
        raise ValueError(f"batch_size={cfg.batch_size} is more than n_clips={cfg.n_clips}; lower it or add clips")
    crop_seconds = min(cfg.crop_frames, mels.shape[-1]) * mel.hop_length / mel.sample_rate
    setup = dict(out_dir=out / "train", device=device, seconds_per_item=crop_seconds, quiet=run.quiet)
    history = fit("clap", model, clap_losses, cfg, clap_batches(mels, labels, cfg), **setup).history
    model.cpu().eval()
    seconds = time.perf_counter() - start
    report = retrieval_report(model, *heldout_set(cfg.clip_seconds, mel, cfg.seed), seed=cfg.seed)
    info = {
        **card_fields(run.command, "minidcae train-clap", profile, cfg, mel, device, seconds),
        "parameters": sum(p.numel() for p in model.parameters()),
        "first_loss": history[0]["loss"],
        "last_loss": history[-1]["loss"],
        "temperature": float(1 / model.scale().detach()),
        "retrieval": report,
    }
    return save_model(out / "clap", model, "clap", model_cfg, info)
