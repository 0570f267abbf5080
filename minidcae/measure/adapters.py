"""What an adapter taught and what it cost: the new word heard, the known prompts kept, with 95% intervals.

    wilson_interval    the 95% Wilson score interval of k hits in n: still a range at 0 or n hits, where a
                       bootstrap of the hits has no spread left
    refusal            the one-line refusal a model gives a prompt with a word it does not know (None if it takes it)
    word_heard         "happy WORD" and "sad WORD" clips, judged by the timbre judge (measure.timbre): the share heard
                       as the new sound (bootstrap and Wilson intervals), beside chance, what the rest were heard as
    known_prompts      the twelve "mood instrument" prompts: the label classifier's instrument accuracy and KAD to
                       real held-out clips, each with a 95% bootstrap interval, and each clip's hit
    forgetting         an adapted model's known_prompts against the base model's on the same noise: the paired
                       difference in accuracy with its interval, and both KADs

The clips are generated from the same seeds for every model, so base and adapted differ only by the adapter.
Taught in notebook 14 (LoRA); tools/measure_lora.py writes its figures to data_samples/checkpoints/lora/lora.json.
"""

from __future__ import annotations

import math

import torch

from minidcae.generation.pipeline import generate_mels
from minidcae.generation.sampling import prompt_grid, sample_latents
from minidcae.measure.distances import embedding_distances
from minidcae.measure.obedience import judge, mean_interval


def wilson_interval(k: int, n: int, z: float = 1.96) -> list[float]:
    """[low, high] for a rate of k hits in n trials (Wilson, 1927), z = 1.96 for 95%."""
    p = k / n
    # centre (p + z^2 / 2n) / (1 + z^2 / n), half-width z sqrt(p (1 - p) / n + z^2 / 4n^2) / (1 + z^2 / n)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]


def refusal(model, prompt: str) -> str | None:
    """What `model` says to `prompt` when it holds a word it does not read (the sampler's one-line refusal), or
    None when it takes the prompt."""
    try:
        sample_latents(model, [prompt], 1, steps=1)
    except ValueError as err:
        return str(err)
    return None


@torch.no_grad()
def word_heard(
    model, autoencoder, timbre, instrument: str, target: str, frames: int, per_mood: int = 24, seed: int = 0, **sampling
) -> dict:
    """per_mood clips of "happy <instrument>" and of "sad <instrument>" (instrument: the new word, or a known one for
    the base model), heard by the timbre judge `timbre`: {"mean": share heard as timbre `target`, "interval": its
    95% bootstrap interval, "wilson_interval", "chance": 1 / timbres, "heard": {timbre: clips}, "clips"}. sampling: steps, cfg_scale."""
    prompts = [f"happy {instrument}"] * per_mood + [f"sad {instrument}"] * per_mood
    mels = generate_mels(model, autoencoder, prompts, frames, seed=seed, **sampling)[:, :1]  # (N, 1, n_mels, T)
    heard = timbre.hear(mels)  # (N,)
    counts = torch.bincount(heard, minlength=len(timbre.names)).tolist()
    hits = heard == timbre.names.index(target)  # (N,)
    return {
        **mean_interval(hits),
        "wilson_interval": wilson_interval(int(hits.sum()), len(hits)),
        "chance": 1 / len(timbre.names),
        "clips": len(prompts),
        "heard": {name: c for name, c in zip(timbre.names, counts) if c},
    }


@torch.no_grad()
def known_prompts(
    model, autoencoder, classifier, real: torch.Tensor, frames: int, per_label: int = 8, seed: int = 0, **sampling
) -> dict:
    """per_label clips of each "mood instrument" prompt, judged by the label classifier: {"instrument": {"mean",
    "interval"}, "hits": (N,) bool, "kad": KAD to the real clips' embeddings `real` (M, E), "kad_interval"}."""
    prompts, want_i, want_m = prompt_grid(per_label)
    mels = generate_mels(model, autoencoder, prompts, frames, seed=seed, **sampling)[:, :1]  # (N, 1, n_mels, T)
    verdict = judge(classifier, mels, want_i, want_m)
    distances = embedding_distances(real, verdict["embeddings"])
    return {
        "clips": len(prompts),
        "instrument": verdict["instrument"],
        "hits": verdict["heard"]["instrument"] == want_i,
        "kad": distances["kad"],
        "kad_interval": list(distances["kad_interval"]),
    }


def forgetting(adapted: dict, base: dict) -> dict:
    """Adapted against base on the same prompts and noise (known_prompts of each): accuracy of each, their paired
    difference adapted - base with its 95% bootstrap interval (in points: x 100), and both KADs."""
    difference = mean_interval(adapted["hits"].double() - base["hits"].double())
    return {
        "accuracy": adapted["instrument"]["mean"],
        "base_accuracy": base["instrument"]["mean"],
        "difference_points": 100 * difference["mean"],
        "difference_interval_points": [100 * v for v in difference["interval"]],
        "kad": adapted["kad"],
        "kad_interval": adapted["kad_interval"],
        "base_kad": base["kad"],
        "base_kad_interval": base["kad_interval"],
    }
