"""Does generated audio obey its prompt? Clips are generated and the label classifier judges them.

    obedience    per_label clips of each "mood instrument" prompt, judged against what was asked, with the
                 Frechet distance to real clips and the same figures for the autoencoder's reconstructions

Taught in notebook 07 (latent diffusion) and notebook 08 (conditioning); the transformer's card reports it.
"""

from __future__ import annotations

import torch

from minidcae.core.config import GenerationConfig, MelConfig
from minidcae.generation.pipeline import generate_mels
from minidcae.generation.sampling import prompt_grid
from minidcae.sound.synth import INSTRUMENTS, MODES


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
    from minidcae.models.classifier import frechet_distance, labelled_mels, predict

    prompts, want_i, want_m = prompt_grid(per_label)
    frames = round(gen.clip_seconds * mel.frame_rate / autoencoder.cfg.time_factor)
    generated = generate_mels(
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
    e_gen, pi, pm = predict(classifier, generated)
    real, real_i, real_m = labelled_mels(len(prompts), gen.clip_seconds, mel, heldout=True)  # (N, 1, n_mels, T)
    device = next(autoencoder.parameters()).device
    recon = torch.cat(
        [autoencoder.decode(autoencoder.encode(x.to(device)), x.shape[-2:]).float().cpu() for x in real.split(48)]
    )[:, :1]  # the autoencoder's reconstructions of the same clips
    e_real, ri, rm = predict(classifier, real)
    e_recon, ci_, cm = predict(classifier, recon)
    half = len(e_real) // 2
    return {
        "clips": len(prompts),
        "steps": steps or gen.steps,
        "cfg_scale": cfg_scale or gen.cfg_scale,
        "instrument_accuracy": float((pi == want_i).float().mean()),
        "mode_accuracy": float((pm == want_m).float().mean()),
        "chance": {"instrument": 1 / len(INSTRUMENTS), "mode": 1 / len(MODES)},
        "frechet_generated_vs_real": frechet_distance(e_gen, e_real),
        "reference": {
            "real_instrument_accuracy": float((ri == real_i).float().mean()),
            "real_mode_accuracy": float((rm == real_m).float().mean()),
            "reconstruction_instrument_accuracy": float((ci_ == real_i).float().mean()),
            "reconstruction_mode_accuracy": float((cm == real_m).float().mean()),
            "frechet_reconstruction_vs_real": frechet_distance(e_recon, e_real),
            "frechet_real_half_vs_half": frechet_distance(e_real[:half], e_real[half:]),
        },
    }
