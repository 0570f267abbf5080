"""Does guiding only the middle steps keep the prompt? ACE-Step's guidance interval against guiding every step.

    window_comparison   the same prompts, seed, steps and scale guided on every step and inside a GuidanceWindow:
                        the judge's instrument and mode accuracy, KAD and Frechet distance to held-out real clips,
                        and the velocity evaluations each clip cost

The window itself is minidcae.generation.guidance.GuidanceWindow. Taught in notebook 12 (editing: APG against CFG,
and the guidance window).
"""

from __future__ import annotations

import torch

from minidcae.core.config import MelConfig
from minidcae.generation.guidance import GuidanceWindow
from minidcae.generation.pipeline import generate_mels
from minidcae.generation.sampling import latent_frames, prompt_grid
from minidcae.measure.distances import frechet_distance, kernel_audio_distance
from minidcae.measure.obedience import judge
from minidcae.models.classifier import labelled_mels


@torch.no_grad()
def window_comparison(
    transformer, autoencoder, classifier, mel: MelConfig, window: GuidanceWindow, per_prompt: int = 2, **sampling
) -> dict:
    """per_prompt clips of 3 s of each "mood instrument" prompt (12 prompts), sampled twice from the same noise:
    guided on every step, and on the steps `window` guides. sampling: sample_latents' keywords (steps, cfg_scale,
    guidance, sampler, seed; its defaults otherwise). {"clips", "interval", "decay", "min_scale", "sampling", "rows":
    {"every step", "window"}}, each row: guided_steps, evaluations (of the velocity of one clip: one a step, two
    where guided, twice that under Heun), instrument_accuracy, mode_accuracy, kad and frechet to as many held-out
    real clips."""
    seconds, seed = 3.0, sampling.get("seed", 0)
    prompts, want_i, want_m = prompt_grid(per_prompt)
    frames = latent_frames(seconds, mel, autoencoder)
    real, _, _ = labelled_mels(len(prompts), seconds, mel, heldout=True, seed=seed + 10_000)  # (N, 1, n_mels, T)
    e_real = judge(classifier, real, None, n_boot=0)["embeddings"]  # (N, E)
    steps, per_step = sampling.get("steps", 30), 2 if sampling.get("sampler", "euler") == "heun" else 1
    rows = {}
    for name, w in (("every step", GuidanceWindow()), ("window", window)):
        mels = generate_mels(transformer, autoencoder, prompts, frames, window=w, **sampling)[:, :1]  # (N, 1, M, T)
        heard = judge(classifier, mels, want_i, want_m, n_boot=0)
        start, end = w.bounds(steps)
        guided = max(0, end - start)
        rows[name] = {
            "guided_steps": guided,
            "evaluations": (steps + guided) * per_step,
            "instrument_accuracy": heard["instrument"]["mean"],
            "mode_accuracy": heard["mode"]["mean"],
            # bandwidth from the real clips alone, so the two rows' KADs compare
            "kad": kernel_audio_distance(e_real, heard["embeddings"], "reference"),
            "frechet": frechet_distance(e_real, heard["embeddings"]),
        }
    settings = {"interval": window.interval, "decay": window.decay, "min_scale": window.min_scale}
    return {"clips": len(prompts), **settings, "sampling": dict(sampling), "rows": rows}
