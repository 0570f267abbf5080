"""Few-step generation by rectified-flow reflow: straighten the teacher's paths, then take big steps.

    teacher_pairs     (noise, the teacher's guided sample from that noise, prompt) for many prompts
    reflow_loss       flow matching on fixed pairs: the student learns the straight line from each noise to its sample
    reflow_batches    step -> a batch of pairs and their prompts
    distill           `minidcae distill`: pairs from the teacher, then a copy of it fine-tuned on them

Flow matching pairs noise and data at random, so the lines it learns cross one another and the velocity
field it averages them into is curved: an Euler step of size 1 lands in the middle of the data, a blur.
Reflow (Liu et al., 2022) samples the teacher once per noise, from x0 to its own x1, and trains the student
on those pairs: lines that no longer cross, a field that is nearly straight, and a path that one or two
Euler steps follow. The teacher's pairs are sampled with guidance, so the student learns the guided field
itself and samples with one network call a step (guidance "none"), half the cost of a guided step.
The others, in words: progressive distillation halves the steps again and again, each student matching two
of its teacher's steps with one; consistency models map every point of a path straight to its end; shortcut
models take the step size as an input and learn that two half steps equal one whole one.
Taught in notebook 07 (latent diffusion); measured in benchmarks/few_step.py.
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from minidcae.core.checkpoint import save_model
from minidcae.core.config import GenerationConfig, TrainConfig
from minidcae.core.profiles import Profile, pick_device
from minidcae.generation.sampling import latent_frame_rate, sample_latents
from minidcae.models.dcae import count_parameters, load_latent_autoencoder, mel_config_of
from minidcae.models.text import tokenize, training_prompt
from minidcae.models.transformer import load_transformer
from minidcae.sound.synth import draw_labels, first_seed
from minidcae.training.flow_matching import interpolate
from minidcae.training.recipe import Run, card_fields, fields_but, fit, split_overrides


@torch.no_grad()
def teacher_pairs(
    teacher, n: int, frames: int, steps: int = 30, cfg_scale: float = 3.0, shift: float = 3.0, seed: int = 0, batch=64
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """(noise (n, C, F, frames), the teacher's sample from each (n, C, F, frames), n prompts). The prompts are
    training phrasings of training clips' labels (seeds from `seed`), so the student sees every kind of prompt."""
    from minidcae.sound.synth import ClipLabels

    base = first_seed(seed, n)
    rng = np.random.default_rng([seed, 7])
    prompts = []
    for i in range(n):
        labels = ClipLabels(seed=base + i, **draw_labels(base + i), onsets=(), beats=())
        prompts.append(training_prompt(labels, rng))
    c = teacher.cfg
    noise = torch.randn(n, c.latent_channels, c.latent_rows, frames, generator=torch.Generator().manual_seed(seed))
    samples = torch.cat(
        [
            sample_latents(
                teacher, prompts[i : i + batch], frames, steps, cfg_scale, shift=shift, noise=noise[i : i + batch]
            )
            for i in range(0, n, batch)
        ]
    )  # (n, C, F, frames)
    return noise, samples, prompts


def reflow_loss(velocity, x0: torch.Tensor, x1: torch.Tensor, generator=None) -> torch.Tensor:
    """Flow matching with the pairing fixed: mean || v(x_t, t) - (x1 - x0) ||^2 with x_t on the line from x0 to x1.
    Unlike flow_matching_loss, the noise is not drawn afresh: x0 is the noise the teacher turned into x1.

    t is uniform on [0, 1], as rectified flow's reflow draws it (Liu et al., 2022), not logit-normal: a student
    sampled in one or two steps is asked for its velocity at t = 0 and t = 0.5, and the logit-normal rarely draws
    a t near 0 (1.4% of its draws fall below 0.1, against 10%). tests/test_distill.py measures the 1-step error
    both ways."""
    # t ~ U(0, 1)
    t = torch.rand(x1.shape[0], generator=generator, device=x1.device)  # (B,)
    x_t = interpolate(x0, x1, t)  # (B, C, F, T)
    return (velocity(x_t, t) - (x1 - x0)).square().mean()


def reflow_batches(noise, samples, prompts, cfg: TrainConfig):
    """step -> {"noise": (B, C, F, T), "latent": (B, C, F, T), "prompt": B strings}, drawn from (seed, step)."""

    def next_batch(step: int) -> dict:
        idx = np.random.default_rng([cfg.seed, step]).integers(0, len(noise), cfg.batch_size)
        return {"noise": noise[idx], "latent": samples[idx], "prompt": [prompts[i] for i in idx]}

    return next_batch


def _losses(seed: int):
    generator = torch.Generator().manual_seed(seed)

    def losses(m: dict, batch: dict) -> dict:
        x1 = batch["latent"]  # (B, C, F, T)
        ids, mask = (t.to(x1.device) for t in tokenize(batch["prompt"]))

        def velocity(x, t):
            return m["transformer"](x, t, ids, mask)

        gen = generator if x1.device.type == "cpu" else None
        return {"loss": reflow_loss(velocity, batch["noise"], x1, gen)}

    return losses


# key=value settings: n_clips is TrainConfig's (how many teacher pairs), clip_seconds GenerationConfig's (the
# teacher's clip length); TrainConfig.clip_seconds is never read, so `clip_seconds=` reaches GenerationConfig.
SETTINGS = {"TrainConfig": TrainConfig(), "GenerationConfig": GenerationConfig()}
SETTABLE = {"TrainConfig": fields_but(TrainConfig, "clip_seconds")}


def distill(
    out_dir, profile: Profile, teacher_path, autoencoder_path, run: Run = Run(), pairs: int | None = None
) -> Path:
    """The recipe; returns out_dir/transformer.safetensors, a student that samples with guidance "none" in a few
    steps. pairs: how many teacher samples (default: the profile's distill_train.n_clips)."""
    train_over, gen_over = split_overrides(run.overrides or {}, SETTINGS, SETTABLE)
    cfg = replace(profile.distill_train, **train_over)
    gen = replace(profile.generation, **gen_over)
    out, device = Path(out_dir), pick_device(run.device)
    teacher, teacher_meta = load_transformer(teacher_path, device)
    if teacher.cfg.melody != "none" or getattr(teacher.cfg, "text", "labels") != "labels":
        raise ValueError(f"{teacher_path}: distill takes a text-only transformer with the label vocabulary")
    autoencoder, ae_meta = load_latent_autoencoder(autoencoder_path, device)
    mel = mel_config_of(ae_meta)
    frames = max(1, round(gen.clip_seconds * latent_frame_rate(mel, autoencoder)))
    start = time.perf_counter()
    noise, samples, prompts = teacher_pairs(
        teacher, pairs or cfg.n_clips, frames, gen.steps, gen.cfg_scale, gen.time_shift, cfg.seed
    )
    pair_seconds = time.perf_counter() - start
    student = copy.deepcopy(teacher).train()
    # times uniform over the line (reflow_loss): every part of a straight path matters as much
    losses = _losses(cfg.seed)
    batches = reflow_batches(noise, samples, prompts, cfg)
    setup = dict(out_dir=out / "train", device=device, seconds_per_item=gen.clip_seconds, quiet=run.quiet)
    trainer = fit("transformer", student, losses, cfg, batches, **setup)
    student.eval()
    info = {
        **card_fields(
            run.command, "minidcae distill", profile, cfg, mel, device, time.perf_counter() - start - pair_seconds
        ),
        "generation": asdict(gen),
        "autoencoder": Path(autoencoder_path).name,
        "teacher": Path(teacher_path).name,
        "distilled": True,
        "sampling": {"guidance": "none", "steps": 2},
        "pairs": len(noise),
        "pair_sampling": {"steps": gen.steps, "cfg_scale": gen.cfg_scale, "seconds": round(pair_seconds, 1)},
        "parameters": count_parameters(student),
        "first_loss": trainer.history[0]["loss"] if trainer.history else None,
        "last_loss": trainer.history[-1]["loss"] if trainer.history else None,
    }
    return save_model(out / "transformer", student.cpu(), "transformer", student.cfg, info)
