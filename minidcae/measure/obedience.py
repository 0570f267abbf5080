"""Does generated audio obey its prompt? The label classifier hears each clip, and one judge scores it.

    judge            the one judge of generated audio: the classifier's instrument and mode accuracy against what
                     was asked, each with a 95% bootstrap interval, beside chance, with the embeddings for distances
    mean_interval    the mean of per-clip values and its 95% bootstrap interval (the judge's accuracies, CLAP
                     scores, melody scores)
    generate_clips   one clip per prompt at a GenerationConfig's sampling: the clips a judge hears
    obedience        per_label clips of each "mood instrument" prompt, judged against what was asked, with the
                     Frechet distance to real clips and the same figures for the autoencoder's reconstructions

Every figure of generated audio goes through judge (obedience here, prompts.evaluate_prompts, editing.edit_report)
or mean_interval (recipes.melody_obedience.melody_obedience, whose judges are chroma and pitch). Taught in notebook 07
(latent diffusion) and notebook 08 (conditioning); the transformer's card reports it.
"""

from __future__ import annotations

import numpy as np
import torch

from minidcae.core.config import GenerationConfig, MelConfig
from minidcae.generation.pipeline import generate_mels
from minidcae.generation.sampling import prompt_grid
from minidcae.measure.distances import bootstrap_interval, frechet_distance
from minidcae.models.classifier import labelled_mels, predict
from minidcae.sound.synth import INSTRUMENTS, MODES

CHANCE = {"instrument": 1 / len(INSTRUMENTS), "mode": 1 / len(MODES)}  # a classifier that guesses


def mean_interval(values, n_boot: int = 1000, seed: int = 0) -> dict:
    """{"mean": float, "interval": [low, high]} of per-clip values (N,) (a tensor, or an array kept as one): their
    mean and its 95% percentile bootstrap interval (distances.bootstrap_interval); n_boot=0 gives interval None."""
    v = values.double() if torch.is_tensor(values) else np.asarray(values, dtype=np.float64)  # (N,)
    interval = list(bootstrap_interval(lambda x: x.mean(), v, n_boot=n_boot, seed=seed)) if n_boot else None
    return {"mean": float(v.mean()), "interval": interval}


@torch.no_grad()
def judge(classifier, mels: torch.Tensor, want_instrument, want_mode=None, n_boot: int = 1000, seed: int = 0) -> dict:
    """The label classifier's verdict on clips mels (N, 1, n_mels, T) asked to be want_instrument (N,) and want_mode
    (N,) (indices into INSTRUMENTS and MODES; None: that label is not judged):

        instrument, mode   mean_interval of the hits: {"mean": accuracy, "interval": 95% bootstrap interval}
        chance             the accuracy of a guess (1/6 and 1/2)
        heard              what the classifier heard, {"instrument": (N,), "mode": (N,)} indices
        embeddings         (N, E): the classifier's embeddings, for the Frechet distance and KAD to real clips
    """
    e, pi, pm = predict(classifier, mels)  # (N, E), (N,), (N,)
    out = {"chance": dict(CHANCE), "heard": {"instrument": pi, "mode": pm}, "embeddings": e}
    for name, heard, want in (("instrument", pi, want_instrument), ("mode", pm, want_mode)):
        if want is not None:
            out[name] = mean_interval(heard == torch.as_tensor(want), n_boot, seed)
    return out


def generate_clips(
    model, autoencoder, prompts, mel: MelConfig, gen: GenerationConfig, seed: int = 0, steps=None, cfg_scale=None
) -> torch.Tensor:
    """One clip of gen.clip_seconds per prompt, sampled as gen says (steps and cfg_scale may be set apart), first
    channel only: log-mels (N, 1, n_mels, T), what the judge hears."""
    frames = round(gen.clip_seconds * mel.frame_rate / autoencoder.cfg.time_factor)
    return generate_mels(
        model,
        autoencoder,
        prompts,
        frames,
        steps=steps or gen.steps,
        cfg_scale=cfg_scale or gen.cfg_scale,
        sampler=gen.sampler,
        shift=gen.time_shift,
        seed=seed,
    )[:, :1]  # (N, 1, n_mels, T)


@torch.no_grad()
def obedience(
    model,
    autoencoder,
    classifier,
    mel: MelConfig,
    gen: GenerationConfig,
    per_label: int = 16,
    steps: int | None = None,
    cfg_scale: float | None = None,
    seed: int = 0,
) -> dict:
    """Generate per_label clips for each "mood instrument" prompt (12 prompts) and let the classifier judge:
    instrument and mode accuracy against the prompt (chance 1/6 and 1/2), and the Frechet distance of
    their embeddings to held-out real clips. For scale: the same measures for the autoencoder's
    reconstructions of the held-out clips, and the distance between two halves of the real set."""
    prompts, want_i, want_m = prompt_grid(per_label)
    generated = generate_clips(model, autoencoder, prompts, mel, gen, seed, steps, cfg_scale)  # (N, 1, n_mels, T)
    real, real_i, real_m = labelled_mels(len(prompts), gen.clip_seconds, mel, heldout=True)  # (N, 1, n_mels, T)
    device = next(autoencoder.parameters()).device
    recon = torch.cat(
        [autoencoder.decode(autoencoder.encode(x.to(device)), x.shape[-2:]).float().cpu() for x in real.split(48)]
    )[:, :1]  # the autoencoder's reconstructions of the same clips
    heard, real_heard, recon_heard = (
        judge(classifier, x, want, modes, n_boot=0)
        for x, want, modes in ((generated, want_i, want_m), (real, real_i, real_m), (recon, real_i, real_m))
    )
    e_real = real_heard["embeddings"]  # (N, E)
    half = len(e_real) // 2
    return {
        "clips": len(prompts),
        "steps": steps or gen.steps,
        "cfg_scale": cfg_scale or gen.cfg_scale,
        "instrument_accuracy": heard["instrument"]["mean"],
        "mode_accuracy": heard["mode"]["mean"],
        "chance": heard["chance"],
        "frechet_generated_vs_real": frechet_distance(heard["embeddings"], e_real),
        "reference": {
            "real_instrument_accuracy": real_heard["instrument"]["mean"],
            "real_mode_accuracy": real_heard["mode"]["mean"],
            "reconstruction_instrument_accuracy": recon_heard["instrument"]["mean"],
            "reconstruction_mode_accuracy": recon_heard["mode"]["mean"],
            "frechet_reconstruction_vs_real": frechet_distance(recon_heard["embeddings"], e_real),
            "frechet_real_half_vs_half": frechet_distance(e_real[:half], e_real[half:]),
        },
    }
