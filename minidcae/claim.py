"""The seed article's claim, tested: does a contrastively trained text encoder ("such as CLAP") make generation
follow its prompt better than a word encoder trained with the generator?

    heldout_prompt_set   per (instrument, mode), held-out real clips and a held-out phrasing of each one's labels
    evaluate_prompts     generate from held-out phrasings and judge: accuracy, CLAP score, KAD and Frechet, intervals
    VERDICT_RULE         the rule, stated before any figure was seen
    claim_verdict        the rule applied to two evaluate_prompts results (word encoder vs miniCLAP)

Two transformers, trained from scratch with the same data, steps and sizes, differ only in TransformerConfig.text:
"phrases" (the word encoder over miniCLAP's vocabulary) or "clap" (miniCLAP's frozen text tower). Both read
miniCLAP's training phrasings and are tested on its held-out ones (word orders and synonym pairings neither saw).
Each figure carries a 95% bootstrap interval over the clips (metrics.bootstrap_interval): at 96 clips an
accuracy is known to about +-0.1, and the verdict says "no difference" unless the intervals separate.
Written by `minidcae train-transformer ... text=phrases|clap --classifier C` onto the checkpoint's card.
"""

from __future__ import annotations

import numpy as np
import torch

from .audio import log_mel
from .clap import clap_score, describe
from .config import GenerationConfig, MelConfig
from .metrics import bootstrap_interval, embedding_distances
from .synth import INSTRUMENTS, MODES, first_seed, synth_clip

VERDICT_RULE = (
    "miniCLAP conditioning improves generation accuracy if the 95% interval of its instrument or mode accuracy "
    "lies wholly above the word encoder's (and neither lies wholly below); it lowers it in the mirror case. "
    "When the accuracies do not separate, it is better if its CLAP-score interval lies above the word encoder's "
    "and its KAD interval does not lie above (worse in the mirror case); otherwise: no difference at this scale."
)


def heldout_prompt_set(per_label: int, mel: MelConfig, seconds: float, seed: int = 0):
    """(real mels (N, 1, n_mels, T), prompts N, instrument indices (N,), mode indices (N,)), N = 12 per_label:
    the first per_label held-out clips of each (instrument, mode), in INSTRUMENTS x MODES order, each with
    one held-out phrasing (clap.describe(..., "heldout")) of its own labels."""
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
    from .classifier import predict
    from .generation import generate_mels

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


def _above(a: list, b: list) -> bool:
    """Interval a lies wholly above interval b."""
    return a[0] > b[1]


def claim_verdict(words: dict, clap: dict) -> dict:
    """VERDICT_RULE applied to evaluate_prompts results of the word-encoder ("phrases") and miniCLAP ("clap")
    models: {"verdict": "improves" | "lowers" | "no difference at this scale" | "mixed", "because": ...}."""
    accuracies = ("instrument_accuracy", "mode_accuracy")
    up = [k for k in accuracies if _above(clap[k]["interval"], words[k]["interval"])]
    down = [k for k in accuracies if _above(words[k]["interval"], clap[k]["interval"])]
    if up and down:
        return {"verdict": "mixed", "because": f"miniCLAP higher on {up}, lower on {down}", "rule": VERDICT_RULE}
    if up or down:
        verdict = "improves" if up else "lowers"
        return {"verdict": verdict, "because": f"intervals separate on {up or down}", "rule": VERDICT_RULE}
    c_score, w_score = clap["clap_score"]["interval"], words["clap_score"]["interval"]
    c_kad, w_kad = clap["distances"]["kad_interval"], words["distances"]["kad_interval"]
    if _above(c_score, w_score) and not _above(c_kad, w_kad):
        return {"verdict": "improves", "because": "CLAP score interval above, KAD not worse", "rule": VERDICT_RULE}
    if _above(w_score, c_score) and not _above(w_kad, c_kad):
        return {"verdict": "lowers", "because": "CLAP score interval below, KAD not better", "rule": VERDICT_RULE}
    return {
        "verdict": "no difference at this scale",
        "because": "no accuracy interval separates, and CLAP score and KAD do not both favour one",
        "rule": VERDICT_RULE,
    }
