"""Profiles: how much work each notebook and command does, picked by one switch, and the device it runs on.

One switch, the environment variable MINIDCAE_PROFILE, picks how big things are:

    ci   the whole course runs under nbval in minutes on 2 CPU cores (CI's machine)
    cpu  a laptop trains something you can hear in about a quarter of an hour
    gpu  real training on one CUDA GPU

Unset, it is `gpu` when CUDA is available, else `cpu`.

    Profile / PROFILES   every size of a profile in one lookup (the configs are minidcae.core.config's)
    get_profile          the profile to use, with any field overridden
    pick_device          the device to use: the one named, else cuda, then mps, then cpu

Every notebook's first cell picks its profile and device here (notebook 00 on).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import torch

from minidcae.core.config import (
    DEFAULT_DCAE,
    DEFAULT_MEL,
    ClapConfig,
    DCAEConfig,
    GenerationConfig,
    MelConfig,
    TrainConfig,
    TransformerConfig,
)

PROFILE_NAMES = ("ci", "cpu", "gpu")


@dataclass(frozen=True)
class Profile:
    """How much work each notebook and command does: one lookup gives every size of a profile."""

    name: str
    n_clips: int  # synthetic clips in the demo
    clip_seconds: float  # length of each synthetic clip
    griffin_lim_iters: int  # Griffin-Lim iterations when inverting a log-mel
    article_train: TrainConfig  # notebook 01: the seed article's autoencoder
    ae_train: TrainConfig  # notebooks 02-03 and `minidcae train-ae`: the DCAE
    vocoder_train: (
        TrainConfig  # `minidcae train-vocoder`: mel L1 + mr_weight * MR-STFT; adv_steps > 0 adds a discriminator
    )
    sweep_train: TrainConfig  # `minidcae sweep`: every point of the compression sweep
    classifier_train: TrainConfig  # `minidcae train-classifier`: the label classifier
    transformer_train: TrainConfig  # `minidcae train-transformer`: the latent transformer
    generation: GenerationConfig  # its data and default sampling
    transformer: TransformerConfig  # its size (latent_channels and latent_rows come from the autoencoder)
    demo_ae_steps: int = 300  # `make demo` trains a tiny DCAE for this many steps
    # `minidcae distill`: a few-step student fine-tuned on the teacher's pairs (n_clips: how many pairs)
    distill_train: TrainConfig = TrainConfig(
        steps=20, batch_size=8, lr=2e-4, log_every=5, checkpoint_every=10, n_clips=16
    )
    # `minidcae train-melody`: fine-tunes a text transformer with melody layers (n_clips: its training clips)
    melody_train: TrainConfig = TrainConfig(
        steps=30, batch_size=8, lr=1e-3, log_every=5, checkpoint_every=15, n_clips=32
    )
    # `minidcae train-lora`: adapters and a new word from a few clips (n_clips: the base model's own clips kept
    # beside them, its prior); about 20 s on one CPU thread, so the same in every profile but ci
    lora_train: TrainConfig = TrainConfig(
        steps=400, batch_size=8, lr=1e-3, log_every=20, checkpoint_every=400, n_clips=104, bf16=False
    )
    ae: DCAEConfig = DEFAULT_DCAE
    mel: MelConfig = DEFAULT_MEL
    clap_train: TrainConfig = TrainConfig(crop_frames=258, n_clips=1024, clip_seconds=3.0)  # `minidcae train-clap`
    clap: ClapConfig = ClapConfig()  # miniCLAP's size


PROFILES = {
    # ci: seconds per training run on 2 CPU cores (about 10 GFLOP/s), so the course fits in minutes
    "ci": Profile(
        "ci",
        n_clips=6,
        clip_seconds=3.0,
        griffin_lim_iters=32,
        article_train=TrainConfig(
            steps=60, batch_size=8, crop_frames=64, lr=2e-3, log_every=5, n_clips=32, clip_seconds=2.0
        ),
        ae_train=TrainConfig(
            steps=40,
            batch_size=8,
            crop_frames=128,
            lr=2e-3,
            log_every=5,
            checkpoint_every=20,
            n_clips=32,
            clip_seconds=3.0,
        ),
        vocoder_train=TrainConfig(
            steps=30,
            batch_size=4,
            crop_frames=32,
            lr=2e-3,
            log_every=5,
            checkpoint_every=15,
            n_clips=16,
            clip_seconds=2.0,
        ),
        sweep_train=TrainConfig(
            steps=20,
            batch_size=4,
            crop_frames=64,
            lr=2e-3,
            log_every=5,
            checkpoint_every=10,
            n_clips=8,
            clip_seconds=2.0,
        ),
        classifier_train=TrainConfig(
            steps=20,
            batch_size=8,
            crop_frames=128,
            lr=2e-3,
            log_every=5,
            checkpoint_every=10,
            n_clips=24,
            clip_seconds=3.0,
        ),
        transformer_train=TrainConfig(steps=30, batch_size=8, lr=2e-3, log_every=5, checkpoint_every=15),
        generation=GenerationConfig(n_clips=32, clip_seconds=2.0),
        transformer=TransformerConfig(dim=64, depth=2, heads=4),
        demo_ae_steps=30,
        lora_train=TrainConfig(
            steps=60, batch_size=8, lr=2e-3, log_every=5, checkpoint_every=60, n_clips=12, bf16=False
        ),
        clap_train=TrainConfig(
            steps=30,
            batch_size=16,
            crop_frames=172,
            lr=2e-3,
            log_every=5,
            checkpoint_every=15,
            n_clips=48,
            clip_seconds=2.0,
        ),
    ),
    # cpu: a laptop hears a real reconstruction after about a quarter of an hour
    "cpu": Profile(
        "cpu",
        n_clips=6,
        clip_seconds=4.0,
        griffin_lim_iters=64,
        article_train=TrainConfig(
            steps=600, batch_size=16, crop_frames=64, lr=2e-3, log_every=20, n_clips=256, clip_seconds=3.0
        ),
        ae_train=TrainConfig(
            steps=1500,
            batch_size=16,
            crop_frames=128,
            lr=2e-3,
            log_every=20,
            checkpoint_every=100,
            ema_decay=0.999,
            n_clips=512,
            clip_seconds=4.0,
            adv_steps=300,
        ),
        # about 0.15 s a step on one CPU thread: 16,000 steps in 40 minutes (a crop of 64 frames is 0.74 s)
        vocoder_train=TrainConfig(
            steps=16000,
            batch_size=8,
            crop_frames=64,
            lr=1e-3,
            log_every=20,
            checkpoint_every=200,
            ema_decay=0.999,
            n_clips=256,
            clip_seconds=4.0,
            adv_weight=0.1,
            fm_weight=0.2,
        ),
        # about 0.2 s a step on one CPU thread: the eight points in about half an hour
        sweep_train=TrainConfig(
            steps=1000,
            batch_size=8,
            crop_frames=128,
            lr=2e-3,
            log_every=20,
            checkpoint_every=250,
            ema_decay=0.999,
            n_clips=256,
            clip_seconds=4.0,
        ),
        classifier_train=TrainConfig(
            steps=3000,
            batch_size=32,
            crop_frames=258,
            lr=2e-3,
            log_every=20,
            checkpoint_every=500,
            ema_decay=0.999,
            n_clips=4096,
            clip_seconds=3.0,
        ),
        transformer_train=TrainConfig(
            steps=6000, batch_size=32, lr=1e-3, log_every=20, checkpoint_every=500, ema_decay=0.999
        ),
        generation=GenerationConfig(n_clips=4096, clip_seconds=3.0),
        transformer=TransformerConfig(dim=128, depth=4, heads=4),
        melody_train=TrainConfig(
            steps=2000, batch_size=32, lr=5e-4, log_every=20, checkpoint_every=500, ema_decay=0.998, n_clips=2048
        ),
        distill_train=TrainConfig(
            steps=1500, batch_size=32, lr=2e-4, log_every=20, checkpoint_every=500, ema_decay=0.998, n_clips=2048
        ),
        # 0.12 to 0.25 s a step on one CPU thread (the second figure with the other core busy): 1,800 steps
        # in 4 to 8 minutes
        clap_train=TrainConfig(
            steps=1800,
            batch_size=32,
            crop_frames=172,
            lr=2e-3,
            log_every=20,
            checkpoint_every=500,
            ema_decay=0.999,
            n_clips=2048,
            clip_seconds=3.0,
        ),
    ),
    # gpu: real training on one GPU (the vocoder, sweep, classifier and transformer sizes not yet run on one)
    "gpu": Profile(
        "gpu",
        n_clips=12,
        clip_seconds=6.0,
        griffin_lim_iters=64,
        article_train=TrainConfig(
            steps=3000, batch_size=64, crop_frames=64, lr=2e-3, log_every=50, n_clips=2048, clip_seconds=4.0
        ),
        ae_train=TrainConfig(
            steps=20000,
            batch_size=64,
            crop_frames=256,
            lr=1e-3,
            log_every=100,
            checkpoint_every=1000,
            ema_decay=0.999,
            n_clips=8192,
            clip_seconds=6.0,
            adv_steps=4000,
        ),
        vocoder_train=TrainConfig(
            steps=100000,
            batch_size=32,
            crop_frames=64,
            lr=5e-4,
            log_every=100,
            checkpoint_every=2000,
            ema_decay=0.999,
            n_clips=8192,
            clip_seconds=6.0,
            adv_steps=100000,
            adv_lr=2e-4,
            adv_weight=0.1,
            fm_weight=0.2,
        ),
        sweep_train=TrainConfig(
            steps=10000,
            batch_size=32,
            crop_frames=256,
            lr=1e-3,
            log_every=100,
            checkpoint_every=1000,
            ema_decay=0.999,
            n_clips=4096,
            clip_seconds=6.0,
        ),
        classifier_train=TrainConfig(
            steps=20000,
            batch_size=128,
            crop_frames=258,
            lr=1e-3,
            log_every=100,
            checkpoint_every=2000,
            ema_decay=0.999,
            n_clips=16384,
            clip_seconds=3.0,
        ),
        transformer_train=TrainConfig(
            steps=50000, batch_size=128, lr=5e-4, log_every=100, checkpoint_every=2000, ema_decay=0.9995
        ),
        generation=GenerationConfig(n_clips=16384, clip_seconds=6.0),
        transformer=TransformerConfig(dim=512, depth=12, heads=8),
        melody_train=TrainConfig(
            steps=10000, batch_size=128, lr=2e-4, log_every=100, checkpoint_every=2000, ema_decay=0.9995, n_clips=16384
        ),
        distill_train=TrainConfig(
            steps=10000, batch_size=128, lr=1e-4, log_every=100, checkpoint_every=2000, ema_decay=0.9995, n_clips=16384
        ),
        demo_ae_steps=2000,
        clap_train=TrainConfig(
            steps=20000,
            batch_size=256,
            crop_frames=258,
            lr=1e-3,
            log_every=100,
            checkpoint_every=2000,
            ema_decay=0.999,
            n_clips=16384,
            clip_seconds=3.0,
        ),
    ),
}


def profile_name(name: str | None = None) -> str:
    """The profile to use: `name`, else MINIDCAE_PROFILE, else gpu if CUDA is there, else cpu."""
    name = name or os.environ.get("MINIDCAE_PROFILE") or ("gpu" if torch.cuda.is_available() else "cpu")
    if name not in PROFILES:
        raise ValueError(f"MINIDCAE_PROFILE={name!r} is not a profile; use one of {', '.join(PROFILE_NAMES)}")
    return name


def get_profile(name: str | None = None, **overrides) -> Profile:
    """The Profile for `name` (see profile_name), with any field overridden by keyword."""
    return replace(PROFILES[profile_name(name)], **overrides)


def pick_device(name: str | None = None) -> torch.device:
    """`name` if given, else the best device here: cuda, then mps, then cpu."""
    if name:
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
