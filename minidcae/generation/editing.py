"""Editing in latent space: an edit is a mask on the sampling ODE (ACE-Step's repaint and extend).

    keep_mask        (T,) weights over latent frames: 1 keeps the original, 0 regenerates, a linear ramp between
    masked_sample    integrate the ODE, after every step put the original's own noisy point back where keep = 1,
                     and crossfade the margin once at the end
    repaint          regenerate the frames [start, end) of a latent with a (new) prompt, at a strength
    extend           continue a latent for more frames: repaint on frames padded past its end
    span_frames      a span in seconds -> latent frames, refused in one line when empty or outside the clip
    edit_audio       a waveform -> a repainted or extended waveform: what `minidcae edit` runs

Every latent here is normalised, (B, C, F, T) with T latent frames. Along the straight path of flow matching
the original latent x1 sits at x_t = (1 - t) x0 + t x1 for its noise x0; outside the span the sample is
put back on that path after every step, so at t = 1 it is x1 itself and only the span is new. Because the
network sees the whole clip at every step, what it makes inside the span fits what is kept around it.
The third edit, retake (noise turned by an angle), is minidcae.generation.sampling's; measuring edits (seams,
edit_report) is minidcae.measure.editing. Guidance (cfg or apg) is minidcae.generation.sampling.prompt_velocity's
and the loop minidcae.generation.samplers.integrate. Taught in notebook 12 (editing).
"""

from __future__ import annotations

import torch

from minidcae.core.errors import MinidcaeError
from minidcae.generation.pipeline import latents_to_mels, mels_to_audio
from minidcae.generation.samplers import integrate, time_grid
from minidcae.generation.sampling import prompt_velocity, seeded_noise


def keep_mask(frames: int, start: int, end: int, margin: int = 0) -> torch.Tensor:
    """(frames,) weights: 1 outside [start, end) (keep the original), 0 inside (regenerate), and over `margin`
    frames just inside each edge that is not the clip's end a linear ramp from 1 to 0 (a crossfade)."""
    if margin < 0:
        raise MinidcaeError(f"a crossfade margin is 0 or more latent frames, got {margin}")
    keep = torch.ones(frames)  # (T,)
    keep[start:end] = 0.0
    for i in range(min(margin, (end - start) // 2)):
        # w_i = 1 - (i + 1) / (margin + 1): the frame i after the edge keeps w_i of the original
        w = 1 - (i + 1) / (margin + 1)
        if start > 0:
            keep[start + i] = w
        if end < frames:
            keep[end - 1 - i] = w
    return keep


@torch.no_grad()
def masked_sample(
    velocity,
    noise: torch.Tensor,
    reference: torch.Tensor,
    keep: torch.Tensor,
    steps: int = 30,
    shift: float = 3.0,
    sampler: str = "euler",
    crossfade: str = "end",
    strength: float = 1.0,
) -> torch.Tensor:
    """Integrate dx/dt = v(x, t) from x = noise (t = 0) to t = 1; after each step to t', put the frames with
    keep = 1 back on the reference's own straight path, x <- h x_ref(t') + (1 - h) x with h = [keep = 1].
    Frames with 0 < keep < 1 (the crossfade margin) are generated with the rest of the span, in context, and
    blended with the reference once, at t = 1: x <- keep x1 + (1 - keep) x.

    crossfade="every_step" blends by keep itself after every step instead, the naive way: a weight applied at
    every step compounds, so after n steps a frame kept at w holds about 1 - (1 - w)^n of the reference (w = 0.2,
    n = 30: 0.999) and the ramp ends as a hard edge where keep reaches 0. Notebook 12 measures the seam both ways.

    strength in [0, 1]: the share of the steps that run (ACE-Step's repaint variance). With strength s the first
    round(steps (1 - s)) steps are skipped and the whole clip starts on the reference's own path at that time,
    x = x_ref(t_start), as SDEdit starts from a noised original: a weaker repaint keeps more of what the span was.
    1 starts from pure noise; 0 runs no step and returns the reference.
    noise, reference (B, C, F, T); keep (T,) or broadcastable to them. Returns (B, C, F, T)."""
    if crossfade not in ("end", "every_step"):
        raise MinidcaeError(f"crossfade must be 'end' or 'every_step', got {crossfade!r}")
    if not 0.0 <= strength <= 1.0:
        raise MinidcaeError(f"a repaint strength is between 0 and 1, got {strength:g}")
    keep = keep.to(noise.device, noise.dtype)  # (T,): broadcasts over the last axis
    held = keep if crossfade == "every_step" else (keep == 1).to(keep.dtype)  # (T,): blended after every step
    grid, skipped = time_grid(steps, shift), round(steps * (1 - strength))  # the first `skipped` steps do not run
    # x_ref(t_start) = (1 - t_start) x0 + t_start x1: at strength 1, t_start = 0 and x is the noise itself
    x = noise if skipped == 0 else (1 - grid[skipped]) * noise + grid[skipped] * reference  # (B, C, F, T)

    def put_back(x, t):
        # x_ref(t) = (1 - t) x0 + t x1
        x_ref = (1 - t) * noise + t * reference  # (B, C, F, T)
        # x <- h x_ref + (1 - h) x
        return held * x_ref + (1 - held) * x  # (B, C, F, T)

    x = integrate(velocity, x, grid, sampler, skipped, put_back)  # (B, C, F, T)
    if crossfade == "every_step":
        return x  # (B, C, F, T): already blended by keep at t = 1
    # the crossfade, once: x <- keep x1 + (1 - keep) x (changes nothing where keep is 0 or 1)
    return keep * reference + (1 - keep) * x  # (B, C, F, T)


@torch.no_grad()
def repaint(
    model,
    z: torch.Tensor,
    prompts: list[str],
    start: int,
    end: int,
    margin: int = 4,
    seed: int = 0,
    crossfade: str = "end",
    strength: float = 1.0,
    **sampling,
) -> torch.Tensor:
    """Latents z (B, C, F, T) -> the same with latent frames [start, end) regenerated for prompts (one each),
    the rest following z's straight path from the seed's noise, with a `margin`-frame crossfade inside the span's
    edges (masked_sample's `crossfade`: once at the end, or the naive every step). strength: masked_sample's, how
    far the span may leave what it was (1: from pure noise). sampling: sample_latents' keywords for the ODE
    (steps, shift, sampler) and its guidance (cfg_scale, guidance, window). (B, C, F, T)."""
    if not 0 <= start < end <= z.shape[-1]:
        raise MinidcaeError(f"span {start}:{end} is empty or outside the {z.shape[-1]} latent frames")
    device = next(model.parameters()).device
    noise = seeded_noise(z.shape, seed).to(device)  # (B, C, F, T)
    ode = {k: sampling.pop(k) for k in ("steps", "shift", "sampler") if k in sampling}  # masked_sample's
    velocity = prompt_velocity(model, prompts, **sampling)  # the rest guide it
    keep = keep_mask(z.shape[-1], start, end, margin)  # (T,)
    reference = z.float().to(device)  # (B, C, F, T)
    return masked_sample(velocity, noise, reference, keep, crossfade=crossfade, strength=strength, **ode).float().cpu()


@torch.no_grad()
def extend(model, z: torch.Tensor, prompts: list[str], frames: int, margin: int = 4, **repainting) -> torch.Tensor:
    """Latents z (B, C, F, T) -> (B, C, F, T + frames): padded with `frames` zero frames, which are repainted
    (the zeros never reach the result). The crossfade sits on the original's side: its last `margin` frames
    are blended, the padding is all new. repainting: repaint's keywords, but not strength: the padding has no
    original to stay near, so an extension always starts from pure noise."""
    if "strength" in repainting:
        raise MinidcaeError("an extension starts from pure noise: strength is for repainting a span of the clip")
    if frames < 1:
        raise MinidcaeError(f"an extension must add at least one latent frame, got {frames}")
    if margin < 0:
        raise MinidcaeError(f"a crossfade margin is 0 or more latent frames, got {margin}")
    t = z.shape[-1]
    margin = min(margin, t - 1)
    padded = torch.cat([z, z.new_zeros(*z.shape[:-1], frames)], dim=-1)  # (B, C, F, T + frames)
    return repaint(model, padded, prompts, t - margin, t + frames, margin=margin, **repainting)


def span_frames(
    start_s: float, end_s: float, frames: int, rate: float, seconds: float | None = None
) -> tuple[int, int]:
    """A span in seconds -> latent frames [start, end) of a clip of `frames` latent frames at `rate` frames a
    second (`seconds` long, by default frames / rate). Refused (MinidcaeError) when empty, reversed or outside."""
    seconds = frames / rate if seconds is None else seconds
    if not (0 <= start_s < end_s <= seconds + 1e-9):
        raise MinidcaeError(
            f"span {start_s:g}:{end_s:g} s is empty or outside the clip (0 to {seconds:.2f} s); "
            f"give START:END with 0 <= START < END <= {seconds:.2f}"
        )
    start, end = round(start_s * rate), min(frames, round(end_s * rate))
    if end <= start:
        raise MinidcaeError(
            f"span {start_s:g}:{end_s:g} s is shorter than one latent frame ({1 / rate:.3f} s); give a longer span"
        )
    return start, end


@torch.no_grad()
def edit_audio(
    transformer,
    autoencoder,
    mel,
    wav: torch.Tensor,
    prompt: str,
    span: tuple[float, float] | None = None,
    extend_seconds: float | None = None,
    steps: int = 30,
    cfg_scale: float = 3.0,
    guidance: str = "cfg",
    margin: int = 4,
    seed: int = 0,
    gl_iters: int = 32,
    source: str = "input",
    strength: float = 1.0,
    vocoder=None,
) -> torch.Tensor:
    """A waveform (C, samples) -> the edited waveform: encode, repaint the span (seconds) or extend by
    extend_seconds, decode, and to sound through pipeline.mels_to_audio (the neural vocoder if given, else
    Griffin-Lim). Spans and extensions are checked before anything is sampled.
    strength: repaint's (how far the span may leave what it was; 1 starts it from pure noise)."""
    from minidcae.sound.audio import log_mel
    from minidcae.sound.streaming import encode_long

    if (span is None) == (extend_seconds is None):
        raise MinidcaeError("give either a span to repaint or seconds to extend by")
    if not 0.0 <= strength <= 1.0:
        raise MinidcaeError(
            f"--strength {strength:g}: give a repaint strength between 0 and 1 (1, the default, starts from pure noise)"
        )
    if extend_seconds is not None and strength != 1.0:
        raise MinidcaeError(f"--strength {strength:g}: an extension always starts from noise; drop --strength")
    x = log_mel(wav, mel, source)  # (C, n_mels, T_mel)
    rate = mel.frame_rate / autoencoder.cfg.time_factor  # latent frames a second
    device = next(autoencoder.parameters()).device
    z = autoencoder.normalize_latent(encode_long(autoencoder, x).to(device)).float().cpu()[None]  # (1, C', F', T)
    frames = x.shape[-1]
    if span is not None:
        try:
            start, end = span_frames(span[0], span[1], z.shape[-1], rate, wav.shape[-1] / mel.sample_rate)
        except MinidcaeError as err:
            raise MinidcaeError(f"{source}: {err}") from None
        sampling = dict(steps=steps, cfg_scale=cfg_scale, guidance=guidance)
        out = repaint(
            transformer, z, [prompt], start, end, margin, seed, strength=strength, **sampling
        )  # (1, C', F', T)
    else:
        added = round(extend_seconds * rate)
        if extend_seconds <= 0 or added < 1:
            raise MinidcaeError(
                f"--extend {extend_seconds:g}: an extension must be at least one latent frame ({1 / rate:.3f} s)"
            )
        out = extend(
            transformer, z, [prompt], added, margin, steps=steps, cfg_scale=cfg_scale, guidance=guidance, seed=seed
        )  # (1, C', F', T + added)
        frames += added * autoencoder.cfg.time_factor
    x_hat = latents_to_mels(autoencoder, out, frames)  # (1, C, n_mels, frames)
    return mels_to_audio(x_hat, mel, vocoder, gl_iters)[0]  # (C, frames * hop)
