"""Sampling latents from the latent transformer: noise, then Euler or Heun steps with guidance.

    latent_frames        how many latent frames a clip of some seconds has
    latent_frame_rate    latent frames per second (about 10.8 for the shipped DCAE)
    sample_latents       prompts (and melodies) -> normalised latents: seeded noise integrated from t = 0 to t = 1
    prompt_velocity      the guided velocity v(x, t) for prompts: cfg or apg, and a melody's own guidance
    retake_noise         cos(a) n1 + sin(a) n2: noise that is n1 at a = 0 and independent of it at a = pi / 2
    retake               a variation of a generated clip: the same prompt from noise turned by an angle
    prompt_for / prompt_grid    the "mood instrument" prompts and the labels each one asks for

The pipeline around it (decoder, vocoder, files) is minidcae.generation.pipeline; editing with masks on the
same ODE is minidcae.generation.editing. Taught in notebook 07 (latent diffusion) and 08 (conditioning).
"""

from __future__ import annotations

import math

import torch

from minidcae.core.config import MelConfig
from minidcae.core.errors import MinidcaeError
from minidcae.generation.guidance import GuidanceWindow, Guided, Momentum, apg
from minidcae.generation.samplers import integrate, time_grid
from minidcae.models.condition import known_words, tokenize_for, unknown_words_for
from minidcae.sound.synth import INSTRUMENTS, MODES


def latent_frames(seconds: float, mel: MelConfig, autoencoder) -> int:
    """Latent frames of a clip of `seconds`: seconds * mel frames per second / the time factor (at least 1)."""
    if seconds <= 0:
        raise MinidcaeError(f"seconds must be positive, got {seconds}")
    return max(1, round(seconds * mel.frame_rate / autoencoder.cfg.time_factor))


@torch.no_grad()
def sample_latents(
    model,
    prompts: list[str],
    frames: int,
    steps: int = 30,
    cfg_scale: float = 3.0,
    sampler: str = "euler",
    shift: float = 3.0,
    seed: int = 0,
    melody: torch.Tensor | None = None,
    melody_scale: float = 2.0,
    guidance: str = "cfg",
    noise: torch.Tensor | None = None,
    window: GuidanceWindow | None = None,
) -> torch.Tensor:
    """Prompts -> normalised latents (B, C, F, frames): start from seeded noise (t = 0), integrate to t = 1.

    noise: the start (B, C, F, frames) instead of the seed's (retake mixes two).
    The velocity is prompt_velocity's (cfg or apg guidance; a melody's own guidance), guided on the steps of
    `window` (ACE-Step's guidance interval; None: every step)."""
    c = model.cfg
    g = torch.Generator().manual_seed(seed)
    x0 = torch.randn(len(prompts), c.latent_channels, c.latent_rows, frames, generator=g)  # (B, C, F, T)
    x0 = (x0 if noise is None else noise.float()).to(next(model.parameters()).device)  # (B, C, F, T)
    velocity = prompt_velocity(model, prompts, cfg_scale, melody, melody_scale, guidance, window)
    return integrate(velocity, x0, time_grid(steps, shift), sampler).float().cpu()


def prompt_velocity(
    model,
    prompts: list[str],
    cfg_scale: float = 3.0,
    melody: torch.Tensor | None = None,
    melody_scale: float = 2.0,
    guidance: str = "cfg",
    window: GuidanceWindow | None = None,
):
    """The guided velocity v(x, t) of a latent transformer for prompts (a fresh one for every sample).

    Guidance runs the conditional and the empty prompt side by side in one batch of 2B:
    cfg: v = v(empty) + s (v(prompt) - v(empty)); apg: guidance.apg on the same two (ACE-Step's default);
    none: v(prompt) alone, one call in a batch of B, for a student that learned the guided velocity (minidcae.recipes.distill).
    melody: piano rolls (B, PITCHES + 1, frames) for a model trained with one (minidcae.sound.melody); then each
    condition has its own guidance (cfg only), three calls in one batch of 3B:
    v = v(empty) + s (v(prompt) - v(empty)) + melody_scale (v(prompt, melody) - v(prompt)).
    s is cfg_scale on the steps `window` guides (every step when None) and, outside them, v is the fully
    conditioned velocity alone, v(prompt) or v(prompt, melody), one call in a batch of B (guidance.Guided)."""
    for p in prompts:
        if unknown_words_for(model.cfg, p):
            raise ValueError(
                f"prompt {p!r}: unknown word(s) {unknown_words_for(model.cfg, p)}; the model knows {known_words(model.cfg)}"
            )
    if guidance not in ("cfg", "apg", "none"):
        raise ValueError(f"guidance must be cfg, apg or none, got {guidance!r}")
    model.eval()
    device = next(model.parameters()).device
    c, b = model.cfg, len(prompts)

    def times(t, n: int) -> torch.Tensor:
        # (n,) copies of t made on the device: no host-to-device copy per call, and a compiled model sees a tensor
        return t if torch.is_tensor(t) else torch.full((n,), float(t), device=device)

    ids, mask = (t.to(device) for t in tokenize_for(c, list(prompts) + [""] * b))  # (2B, L): conditional, then empty

    if melody is None:

        def conditional(x, t):
            # v(prompt) alone, one call in a batch of B: a distilled student's velocity, or outside the window
            return model(x, times(t, b), ids[:b], mask[:b])  # (B, C, F, T)

        if guidance == "none":
            return conditional
        momentum = Momentum()  # APG's running average, one per sample

        def guide(x, t, s, step):
            v = model(torch.cat([x, x]), times(t, 2 * b), ids, mask)  # (2B, C, F, T)
            v_cond, v_uncond = v.chunk(2)
            if guidance == "apg":
                return apg(v_cond, v_uncond, s, momentum, step=step)
            return v_uncond + s * (v_cond - v_uncond)  # = guidance.guided(...) evaluated in one batch

        return Guided(conditional, guide, cfg_scale, window)

    if guidance != "cfg":
        raise ValueError("guidance apg is not available with a melody yet; use cfg")
    if getattr(model.cfg, "melody", "none") == "none":
        raise ValueError("this transformer was trained without a melody; pass a melody-conditioned checkpoint")
    roll = melody.to(device)  # (B, P + 1, T)
    rolls = torch.cat([roll, torch.zeros_like(roll), torch.zeros_like(roll)])  # (3B, P + 1, T)
    ids3, mask3 = (torch.cat([t[:b], t[:b], t[b:]]) for t in (ids, mask))  # prompt, prompt, empty

    def with_melody(x, t):
        # v(prompt, melody) alone, one call in a batch of B: outside the window
        return model(x, times(t, b), ids[:b], mask[:b], melody=roll)  # (B, C, F, T)

    def guide_melody(x, t, s, step):
        v_melody, v_prompt, v_empty = model(torch.cat([x, x, x]), times(t, 3 * b), ids3, mask3, melody=rolls).chunk(3)
        return v_empty + s * (v_prompt - v_empty) + melody_scale * (v_melody - v_prompt)

    return Guided(with_melody, guide_melody, cfg_scale, window)


def latent_frame_rate(mel: MelConfig, autoencoder) -> float:
    """Latent frames per second: mel frames per second / the autoencoder's time factor (about 10.8 here)."""
    return mel.frame_rate / autoencoder.cfg.time_factor


def prompt_for(instrument: str, mode: str) -> str:
    return f"{'happy' if mode == 'major' else 'sad'} {instrument}"


def prompt_grid(per_label: int) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """per_label copies of each "mood instrument" prompt (12 of them), with the instrument and mode
    indices each one asks for: (prompts, instruments (N,), modes (N,))."""
    prompts, instruments, modes = [], [], []
    for instrument in INSTRUMENTS:
        for mode in MODES:
            prompts += [prompt_for(instrument, mode)] * per_label
            instruments += [INSTRUMENTS.index(instrument)] * per_label
            modes += [MODES.index(mode)] * per_label
    return prompts, torch.tensor(instruments), torch.tensor(modes)


def seeded_noise(shape, seed: int) -> torch.Tensor:
    """Seeded standard normal noise, drawn as sample_latents draws it."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def retake_noise(n1: torch.Tensor, n2: torch.Tensor, angle: float) -> torch.Tensor:
    """cos(a) n1 + sin(a) n2 (any shape). For independent N(0, I) n1, n2 it is N(0, I) at every angle
    (cos^2 + sin^2 = 1), equal to n1 at a = 0 and independent of n1 at a = pi / 2."""
    # n = cos(a) n1 + sin(a) n2
    return math.cos(angle) * n1 + math.sin(angle) * n2


@torch.no_grad()
def retake(
    model, prompts: list[str], frames: int, angle: float, seed: int = 0, retake_seed: int | None = None, **sampling
) -> torch.Tensor:
    """A variation of sample_latents(prompts, frames, seed=seed): the noise of `seed` turned by `angle` towards
    the noise of retake_seed (default seed + 1). angle 0 gives the same clip. sampling: sample_latents' keywords.
    Returns (B, C, F, frames)."""
    c = model.cfg
    shape = (len(prompts), c.latent_channels, c.latent_rows, frames)
    n1 = seeded_noise(shape, seed)  # (B, C, F, T): sample_latents' noise for this seed
    n2 = seeded_noise(shape, seed + 1 if retake_seed is None else retake_seed)  # (B, C, F, T)
    return sample_latents(model, prompts, frames, seed=seed, noise=retake_noise(n1, n2, angle), **sampling)
