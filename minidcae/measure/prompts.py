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
from minidcae.measure.metrics import bootstrap_interval, embedding_distances
from minidcae.models.clap import clap_score
from minidcae.models.phrasings import describe
from minidcae.sound.audio import log_mel
from minidcae.sound.synth import INSTRUMENTS, MODES, first_seed, synth_clip


def heldout_prompt_set(per_label: int, mel: MelConfig, seconds: float, seed: int = 0):
    """(real mels (N, 1, n_mels, T), prompts N, instrument indices (N,), mode indices (N,)), N = 12 per_label:
    the first per_label held-out clips of each (instrument, mode), in INSTRUMENTS x MODES order, each with
    one held-out phrasing (phrasings.describe(..., "heldout")) of its own labels."""
    want = {(i, m): [] for i in INSTRUMENTS for m in MODES}
    seed_now = first_seed(seed, 1, heldout=True)
    while any(len(v) < per_label for v in want.values()):
        wav, labels = synth_clip(seed_now, seconds, mel.sample_rate)
        seed_now += 1
        slot = want[(labels.instrument, labels.mode)]
        if len(slot) < per_label:
            slot.append((wav, labels))
    rng = np.random.default_rng([seed, 11])
    mels, prompts, instruments, modes = [], [], [], []
    for (instrument, mode), clips in want.items():
        for wav, labels in clips:
            mels.append(log_mel(torch.from_numpy(wav)[None], mel))  # (1, n_mels, T)
            prompts.append(describe(labels, rng, "heldout"))
            instruments.append(INSTRUMENTS.index(instrument))
            modes.append(MODES.index(mode))
    return torch.stack(mels), prompts, torch.tensor(instruments), torch.tensor(modes)


def _mean_with_interval(values: torch.Tensor, n_boot: int, seed: int) -> dict:
    v = values.double()
    return {
        "mean": float(v.mean()),
        "interval": list(bootstrap_interval(lambda x: x.mean(), v, n_boot=n_boot, seed=seed)),
    }


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
    from minidcae.generation.pipeline import generate_mels
    from minidcae.models.classifier import predict

    real, prompts, want_i, want_m = heldout_prompt_set(per_label, mel, gen.clip_seconds, seed)
    frames = round(gen.clip_seconds * mel.frame_rate / autoencoder.cfg.time_factor)
    generated = generate_mels(
        model,
        autoencoder,
        prompts,
        frames,
        steps=gen.steps,
        cfg_scale=gen.cfg_scale,
        sampler=gen.sampler,
        shift=gen.time_shift,
        seed=seed,
    )[:, :1]  # (N, 1, n_mels, T)
    e_gen, pi, pm = predict(classifier, generated)  # (N, E), (N,), (N,)
    e_real, ri, rm = predict(classifier, real)
    score = clap_score(clap, generated, prompts)  # (N,)
    real_score = clap_score(clap, real, prompts)  # (N,)
    return {
        "clips": len(prompts),
        "per_label": per_label,
        "steps": gen.steps,
        "cfg_scale": gen.cfg_scale,
        "sampler": gen.sampler,
        "example_prompts": prompts[::per_label][:6],
        "instrument_accuracy": _mean_with_interval((pi == want_i).float(), n_boot, seed),
        "mode_accuracy": _mean_with_interval((pm == want_m).float(), n_boot, seed),
        "clap_score": _mean_with_interval(score, n_boot, seed),
        "chance": {"instrument": 1 / len(INSTRUMENTS), "mode": 1 / len(MODES)},
        "distances": embedding_distances(e_real, e_gen, n_boot=min(n_boot, 200), seed=seed),
        "reference": {
            "real_instrument_accuracy": float((ri == want_i).float().mean()),
            "real_mode_accuracy": float((rm == want_m).float().mean()),
            "real_clap_score": float(real_score.double().mean()),
        },
    }
