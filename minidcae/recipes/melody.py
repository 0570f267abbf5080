"""Melody conditioning's recipe: fine-tune the text transformer to follow a melody.

    melody_rolls        each training clip's own melody as a piano roll at the latent frame rate
    melody_batches      step -> latents, prompts and rolls; the melody dropped, or given over a span only, at random
    train_melody        `minidcae train-melody`: start from a text transformer, add melody layers, fine-tune,
                        then measure whether it follows melodies (minidcae.recipes.melody_obedience)

The new layers start at zero (minidcae.models.transformer), so fine-tuning starts from the text model exactly
and the melody can only add to what it knew. The two ways in, cross-attention to melody tokens and melody
tokens added to the frames, are trained with the same recipe and budget. The loss and the settings are
train_transformer's (recipes.transformer: transformer_losses reads a batch's melodies).
Taught in notebook 10 (melody conditioning).
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from minidcae.core.checkpoint import save_model
from minidcae.core.config import GenerationConfig, TrainConfig
from minidcae.core.profiles import Profile, pick_device
from minidcae.generation.sampling import latent_frame_rate
from minidcae.models.dcae import count_parameters, load_latent_autoencoder, mel_config_of
from minidcae.models.text import training_prompt
from minidcae.models.transformer import LatentTransformer, load_transformer
from minidcae.recipes.melody_obedience import evaluate_melody
from minidcae.recipes.transformer import SETTINGS, encode_training_set, transformer_losses
from minidcae.sound.melody import piano_roll
from minidcae.sound.synth import ClipLabels, melody_of
from minidcae.training.recipe import Run, card_fields, fields_but, fit, split_overrides

DROP_MELODY = 0.1  # share of training items with no melody at all (the melody's guidance needs them)
PARTIAL_MELODY = 0.2  # share given a melody over one span only (Music ControlNet's partial controls)


def melody_rolls(labels: list[ClipLabels], seconds: float, frames: int, frame_rate: float) -> torch.Tensor:
    """(N, PITCHES + 1, frames): clip i's own melody (synth.melody_of) as a piano roll."""
    return torch.stack(
        [piano_roll(melody_of(lab.seed, seconds), frames, frame_rate) for lab in labels]
    )  # (N, P + 1, frames)


def melody_batches(latents, rolls, labels, cfg: TrainConfig, gen: GenerationConfig):
    """step -> {"latent": (B, C, F, T), "prompt": B strings, "melody": (B, P + 1, T)}, drawn from (seed, step).
    The prompt is dropped with gen.drop_prompt, the melody with DROP_MELODY (independently, so the model
    sees every combination), and PARTIAL_MELODY of the melodies are given over one random span only."""

    def next_batch(step: int) -> dict:
        rng = np.random.default_rng([cfg.seed, step])
        idx = rng.integers(0, len(latents), cfg.batch_size)
        prompts = ["" if rng.random() < gen.drop_prompt else training_prompt(labels[i], rng) for i in idx]
        melody = rolls[idx].clone()  # (B, P + 1, T)
        frames = melody.shape[-1]
        for row in melody:
            r = rng.random()
            if r < DROP_MELODY:
                row.zero_()  # no melody: the whole roll is zeros, "given" included
            elif r < DROP_MELODY + PARTIAL_MELODY:
                a, b = sorted(rng.integers(0, frames + 1, 2))
                keep = torch.zeros(frames, dtype=torch.bool)
                keep[a:b] = True
                row[:, ~keep] = 0.0  # the melody is said over frames a..b only
        return {"latent": latents[idx], "prompt": prompts, "melody": melody}

    return next_batch


# key=value settings (train_transformer's configs): n_clips is TrainConfig's (the clips this fine-tune encodes),
# clip_seconds GenerationConfig's (the shipped transformer's clip length); TrainConfig.clip_seconds is never read,
# so `clip_seconds=` reaches GenerationConfig.
SETTABLE = {"TrainConfig": fields_but(TrainConfig, "clip_seconds")}


def train_melody(
    out_dir, profile: Profile, autoencoder_path, init_path, melody: str = "cross", run: Run = Run(), data=None
) -> Path:
    """The recipe; returns out_dir/transformer.safetensors, a transformer with cfg.melody = `melody`.

    init_path: the text transformer to start from (its weights load into the same layers; the melody
    layers start at zero). data: (latents, labels) already encoded by encode_training_set, to share one
    encoding between runs (the comparison of cross and add encodes once)."""
    if run.resume:
        raise ValueError("train_melody cannot resume: it keeps no training state; leave run.resume False")
    train_over, gen_over, model_over = split_overrides(run.overrides or {}, SETTINGS, SETTABLE)
    cfg = replace(profile.melody_train, **train_over)
    gen = replace(profile.generation, **gen_over)
    out, device = Path(out_dir), pick_device(run.device)
    autoencoder, ae_meta = load_latent_autoencoder(autoencoder_path, device)
    mel = mel_config_of(ae_meta)
    text_model, _ = load_transformer(init_path)
    model = LatentTransformer(replace(text_model.cfg, melody=melody, **model_over))
    loaded = model.load_state_dict(text_model.state_dict(), strict=False)
    assert not loaded.unexpected_keys, loaded.unexpected_keys  # only melody layers are new
    start = time.perf_counter()
    if data is None:
        data = encode_training_set(autoencoder, mel, cfg.n_clips, gen.clip_seconds, cfg.seed)
    latents, labels = data
    rolls = melody_rolls(labels, gen.clip_seconds, latents.shape[-1], latent_frame_rate(mel, autoencoder))
    encode_seconds = time.perf_counter() - start
    batches = melody_batches(latents, rolls, labels, cfg, gen)
    setup = dict(out_dir=out / "train", device=device, seconds_per_item=gen.clip_seconds, quiet=run.quiet)
    fit("transformer", model, transformer_losses(gen, cfg.seed), cfg, batches, **setup)
    model.eval()
    seconds = time.perf_counter() - start - encode_seconds  # training alone
    info = {
        **card_fields(run.command, "minidcae train-melody", profile, cfg, mel, device, seconds),
        "generation": asdict(gen),
        "autoencoder": Path(autoencoder_path).name,
        "initialised_from": Path(init_path).name,
        "melody": melody,
        "training_clips": len(labels),
        "parameters": count_parameters(model),
        "new_parameters": sum(p.numel() for n, p in model.named_parameters() if n in loaded.missing_keys),
        "encode_seconds": round(encode_seconds, 1),
    }
    path = save_model(out / "transformer", model.cpu(), "transformer", model.cfg, info)
    if run.evaluate:
        evaluate_melody(path, profile, init_path, autoencoder_path, run.command, device=run.device)
    return path
