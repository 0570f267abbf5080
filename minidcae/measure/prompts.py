"""Generation judged on held-out phrasings: does a transformer follow prompts worded in ways it never read?

    heldout_prompt_set   per (instrument, mode), held-out real clips and a held-out phrasing of each one's labels
    evaluate_prompts     generate from held-out phrasings and judge: accuracy, CLAP score, KAD and Frechet, with
                         95% bootstrap intervals over the clips

The seed article's CLAP claim (minidcae.claims.text_encoder) compares two transformers with it; a
transformer trained with text=phrases or text=clap gets it on its card. Taught in notebook 11.
"""

from __future__ import annotations

import numpy as np
import torch

from minidcae.core.config import GenerationConfig, MelConfig
from minidcae.measure.distances import embedding_distances
from minidcae.measure.obedience import generate_clips, judge, mean_interval
from minidcae.models.clap import clap_score
from minidcae.models.phrasings import describe
from minidcae.sound.audio import log_mel
from minidcae.sound.data import synth_clips
from minidcae.sound.synth import INSTRUMENTS, MODES


def heldout_prompt_set(per_label: int, mel: MelConfig, seconds: float, seed: int = 0):
    """(real mels (N, 1, n_mels, T), prompts N, instrument indices (N,), mode indices (N,)), N = 12 per_label:
    the first per_label held-out clips of each (instrument, mode), in INSTRUMENTS x MODES order
    (data.synth_clips(..., balanced=True)), each with one held-out phrasing (describe(..., "heldout")) of its own
    labels."""
    n = per_label * len(INSTRUMENTS) * len(MODES)
    clips = list(synth_clips(n, seconds, mel.sample_rate, seed, heldout=True, balanced=True))
    rng = np.random.default_rng([seed, 11])
    prompts = [describe(labels, rng, "heldout") for _, _, labels in clips]
    mels = torch.stack([log_mel(wav, mel) for _, wav, _ in clips])  # (N, 1, n_mels, T)
    instruments = torch.tensor([INSTRUMENTS.index(labels.instrument) for _, _, labels in clips])  # (N,)
    modes = torch.tensor([MODES.index(labels.mode) for _, _, labels in clips])  # (N,)
    return mels, prompts, instruments, modes


@torch.no_grad()
def evaluate_prompts(
    model,
    autoencoder,
    classifier,
    clap,
    mel: MelConfig,
    gen: GenerationConfig,
    per_label: int = 8,
    seed: int = 0,
    n_boot: int = 1000,
) -> dict:
    """Generate one clip per held-out phrasing (heldout_prompt_set, at gen's sampling) and judge it: instrument
    and mode accuracy by the label classifier, the CLAP score with the prompt asked, and KAD and Frechet
    distance of classifier embeddings against the held-out real clips; the real clips' own figures beside."""
    real, prompts, want_i, want_m = heldout_prompt_set(per_label, mel, gen.clip_seconds, seed)
    generated = generate_clips(model, autoencoder, prompts, mel, gen, seed)  # (N, 1, n_mels, T)
    heard = judge(classifier, generated, want_i, want_m, n_boot, seed)
    real_heard = judge(classifier, real, want_i, want_m, n_boot=0)
    score = clap_score(clap, generated, prompts)  # (N,)
    real_score = clap_score(clap, real, prompts)  # (N,)
    return {
        "clips": len(prompts),
        "per_label": per_label,
        "steps": gen.steps,
        "cfg_scale": gen.cfg_scale,
        "sampler": gen.sampler,
        "example_prompts": prompts[::per_label][:6],
        "instrument_accuracy": heard["instrument"],
        "mode_accuracy": heard["mode"],
        "clap_score": mean_interval(score, n_boot, seed),
        "chance": heard["chance"],
        "distances": embedding_distances(
            real_heard["embeddings"], heard["embeddings"], n_boot=min(n_boot, 200), seed=seed
        ),
        "reference": {
            "real_instrument_accuracy": real_heard["instrument"]["mean"],
            "real_mode_accuracy": real_heard["mode"]["mean"],
            "real_clap_score": float(real_score.double().mean()),
        },
    }
