"""Editing in latent space: an edit is a mask on the sampling ODE (ACE-Step's repaint, extend and retake).

    keep_mask        (T,) weights over latent frames: 1 keeps the original, 0 regenerates, a linear ramp between
    masked_sample    integrate the ODE, after every step put the original's own noisy point back where keep = 1,
                     and crossfade the margin once at the end
    repaint          regenerate the frames [start, end) of a latent with a (new) prompt, at a strength
    extend           continue a latent for more frames: repaint on frames padded past its end
    retake_noise     cos(a) n1 + sin(a) n2: noise that is n1 at a = 0 and independent of it at a = pi / 2
    retake           a variation of a generated clip: the same prompt from noise turned by an angle
    span_frames      a span in seconds -> latent frames, refused in one line when empty or outside the clip
    edit_audio       a waveform -> a repainted or extended waveform: what `minidcae edit` runs
    seam_jumps       the mel change across given frame boundaries, and the clip's own frame-to-frame changes
    edit_report      the measurements of notebook 12 (repaint, extend, retake, APG against CFG) as one dict

Every latent here is normalised, (B, C, F, T) with T latent frames. Along the straight path of flow matching
the original latent x1 sits at x_t = (1 - t) x0 + t x1 for its noise x0; outside the span the sample is
put back on that path after every step, so at t = 1 it is x1 itself and only the span is new. Because the
network sees the whole clip at every step, what it makes inside the span fits what is kept around it.
Taught in notebook 12 (editing); guidance (cfg or apg) is minidcae.generation.prompt_velocity's.
"""

from __future__ import annotations

import math

import torch

from .diffusion import euler_step, heun_step, time_grid
from .errors import MinidcaeError
from .generation import latents_to_mels, prompt_velocity, sample_latents


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
    steps: int,
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
    step = euler_step if sampler == "euler" else heun_step
    keep = keep.to(noise.device, noise.dtype)  # (T,): broadcasts over the last axis
    held = keep if crossfade == "every_step" else (keep == 1).to(keep.dtype)  # (T,): blended after every step
    grid = time_grid(steps, shift)[round(steps * (1 - strength)) :]  # the times left to run, from t_start to 1
    # x_ref(t_start) = (1 - t_start) x0 + t_start x1: at strength 1, t_start = 0 and x is the noise itself
    x = noise if grid[0] == 0 else (1 - grid[0]) * noise + grid[0] * reference  # (B, C, F, T)
    for t, t_next in zip(grid[:-1], grid[1:]):
        x = step(velocity, x, t, t_next)  # (B, C, F, T)
        # x_ref(t) = (1 - t) x0 + t x1
        x_ref = (1 - t_next) * noise + t_next * reference  # (B, C, F, T)
        # x <- h x_ref + (1 - h) x
        x = held * x_ref + (1 - held) * x  # (B, C, F, T)
    if crossfade == "every_step":
        return x  # (B, C, F, T): already blended by keep at t = 1
    # the crossfade, once: x <- keep x1 + (1 - keep) x (changes nothing where keep is 0 or 1)
    return keep * reference + (1 - keep) * x  # (B, C, F, T)


def _noise(shape, seed: int) -> torch.Tensor:
    """Seeded standard normal noise, drawn as sample_latents draws it."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def repaint(
    model,
    z: torch.Tensor,
    prompts: list[str],
    start: int,
    end: int,
    steps: int = 30,
    cfg_scale: float = 3.0,
    guidance: str = "cfg",
    margin: int = 4,
    seed: int = 0,
    shift: float = 3.0,
    sampler: str = "euler",
    crossfade: str = "end",
    strength: float = 1.0,
) -> torch.Tensor:
    """Latents z (B, C, F, T) -> the same with latent frames [start, end) regenerated for prompts (one each),
    the rest following z's straight path from the seed's noise, with a `margin`-frame crossfade inside the span's
    edges (masked_sample's `crossfade`: once at the end, or the naive every step). strength: masked_sample's, how
    far the span may leave what it was (1: from pure noise). (B, C, F, T)."""
    if not 0 <= start < end <= z.shape[-1]:
        raise MinidcaeError(f"span {start}:{end} is empty or outside the {z.shape[-1]} latent frames")
    device = next(model.parameters()).device
    noise = _noise(z.shape, seed).to(device)  # (B, C, F, T)
    velocity = prompt_velocity(model, prompts, cfg_scale, guidance=guidance)
    keep = keep_mask(z.shape[-1], start, end, margin)  # (T,)
    reference = z.float().to(device)  # (B, C, F, T)
    return masked_sample(velocity, noise, reference, keep, steps, shift, sampler, crossfade, strength).float().cpu()


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
    n1 = _noise(shape, seed)  # (B, C, F, T): sample_latents' noise for this seed
    n2 = _noise(shape, seed + 1 if retake_seed is None else retake_seed)  # (B, C, F, T)
    return sample_latents(model, prompts, frames, seed=seed, noise=retake_noise(n1, n2, angle), **sampling)


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
) -> torch.Tensor:
    """A waveform (C, samples) -> the edited waveform: encode, repaint the span (seconds) or extend by
    extend_seconds, decode, Griffin-Lim. Spans and extensions are checked before anything is sampled.
    strength: repaint's (how far the span may leave what it was; 1 starts it from pure noise)."""
    from .audio import log_mel
    from .streaming import encode_long, griffin_lim_long

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
        out = repaint(
            transformer, z, [prompt], start, end, steps, cfg_scale, guidance, margin, seed, strength=strength
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
    x_hat = latents_to_mels(autoencoder, out, frames)[0]  # (C, n_mels, frames)
    return griffin_lim_long(x_hat, mel, gl_iters)  # (C, frames * hop)


# ----------------------------------------------------------------------------- measuring


def frame_changes(mels: torch.Tensor) -> torch.Tensor:
    """Log-mels (B, C, n_mels, T) -> (B, T - 1): the mean absolute change from each mel frame to the next."""
    # c_j = mean_f |m[f, j + 1] - m[f, j]|
    return (mels[..., 1:] - mels[..., :-1]).abs().mean(dim=(1, 2))  # (B, T - 1)


def seam_jumps(mels: torch.Tensor, boundaries: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """(the change across each boundary (B, len(boundaries)), every other frame-to-frame change (B, T - 1 - k)).
    A boundary j is between mel frames j - 1 and j."""
    changes = frame_changes(mels)  # (B, T - 1)
    at = [j - 1 for j in boundaries]
    others = [j for j in range(changes.shape[1]) if j not in at]
    return changes[:, at], changes[:, others]  # (B, k), (B, T - 1 - k)


def _accuracy(hits: torch.Tensor) -> dict:
    from .metrics import bootstrap_interval

    hits = hits.float()  # (N,) 1 where the classifier heard what was asked
    return {"accuracy": float(hits.mean()), "interval": bootstrap_interval(lambda h: h.mean(), hits, n_boot=500)}


def _seam_figures(mels: torch.Tensor, boundaries: list[int]) -> dict:
    """The seam against the clip's natural frame-to-frame change, for mels (B, C, n_mels, T): the change across
    each boundary (mean over clips), their mean and worst, and the natural change elsewhere (mean and 90th
    percentile over every other frame of every clip)."""
    seams, natural = seam_jumps(mels, boundaries)  # (B, k), (B, T - 1 - k)
    per_boundary = seams.mean(0)  # (k,)
    return {
        "boundaries": boundaries,
        "per_boundary": [float(v) for v in per_boundary],
        "seam_mean": float(seams.mean()),
        "seam_worst": float(per_boundary.max()),
        "natural_mean": float(natural.mean()),
        "natural_p90": float(natural.flatten().quantile(0.9)),
        "seam_over_natural": float(seams.mean() / natural.mean()),
    }


def crossfade_boundaries(start: int, end: int, frames: int, margin: int, time_factor: int) -> list[int]:
    """The mel-frame boundaries a seam can sit on: every latent-frame edge from where keep_mask leaves 1 to where
    it reaches 0, at each edge of [start, end) that is not the clip's own end."""
    m = min(margin, (end - start) // 2)
    edges = []
    if start > 0:
        edges += range(start, start + m + 1)
    if end < frames:
        edges += range(end - m, end + 1)
    return [e * time_factor for e in edges]


@torch.no_grad()
def edit_report(
    transformer,
    autoencoder,
    classifier,
    mel,
    n_edits: int = 48,
    seconds: float = 3.0,
    steps: int = 30,
    cfg_scale: float = 3.0,
    margin: int = 4,
    angles: tuple[float, ...] = (0.0, math.pi / 8, math.pi / 4, 3 * math.pi / 8, math.pi / 2),
    scales: tuple[float, ...] = (1.0, 3.0, 6.0, 10.0),
    strengths: tuple[float, ...] = (0.25, 0.5, 0.75),
    per_prompt: int = 4,
    seed: int = 0,
) -> dict:
    """Measure the edits on held-out synthetic clips encoded by the autoencoder (the "input"), judged by the
    label classifier. Returns a dict (JSON-ready):

    repaint   the middle third regenerated as another instrument ("mood instrument"): mel L1 outside the span
              between the edit and the plain reconstruction (dB; and of the inside, for scale), the classifier's
              instrument accuracy inside the span against chance, the seam (at every latent-frame edge of the two
              crossfades) against the natural frame change; and by strength, the new and the old instrument heard
              and the change inside the span
    extend    the first two thirds extended by a third with the clip's own prompt: the first part's mel L1, the
              classifier on the new part, the seam across the crossfade before the join; and the same seam
              with masked_sample's naive crossfade (every step), to show why it is applied once
    retake    retakes of generated clips at each angle: latent RMS distance and mel L1 to the angle-0 clip
    guidance  cfg and apg at each scale: instrument and mode accuracy, KAD and Frechet distance to real clips
    """
    from .classifier import frechet_distance, labelled_mels, predict
    from .generation import generate_mels, prompt_for, prompt_grid
    from .metrics import kernel_audio_distance, median_distance, mel_db_from_log_mel, mel_l1_db_from_mels
    from .synth import INSTRUMENTS, MODES

    tf = autoencoder.cfg.time_factor
    device = next(autoencoder.parameters()).device
    real, inst, mode = labelled_mels(n_edits, seconds, mel, heldout=True, seed=seed)  # (N, 1, n_mels, T_mel)
    z = torch.cat(
        [autoencoder.normalize_latent(autoencoder.encode(x.to(device))).float().cpu() for x in real.split(32)]
    )  # (N, C, F, T)
    frames = z.shape[-1]
    recon = latents_to_mels(autoencoder, z)  # (N, 1, n_mels, T tf): the plain reconstruction

    def l1_db(a, b):  # mel L1 in dB between two log-mels, each floored 80 dB below its reference's peak
        return sum(mel_l1_db_from_mels(mel_db_from_log_mel(x, mel), mel_db_from_log_mel(y, mel)) for x, y in zip(a, b))

    # repaint: the middle third, as the next instrument in the list
    start, end = frames // 3, frames - frames // 3
    new_inst = (inst + 1) % len(INSTRUMENTS)  # (N,)
    prompts = [prompt_for(INSTRUMENTS[i], MODES[m]) for i, m in zip(new_inst.tolist(), mode.tolist())]
    edited = repaint(transformer, z, prompts, start, end, steps, cfg_scale, margin=margin, seed=seed)  # (N, C, F, T)
    out = latents_to_mels(autoencoder, edited)  # (N, 1, n_mels, T tf)
    a, b = start * tf, end * tf  # the span in mel frames
    seams_at = crossfade_boundaries(start, end, frames, margin, tf)  # mel frames across the two crossfades
    outside = torch.cat([out[..., :a], out[..., b:]], -1), torch.cat([recon[..., :a], recon[..., b:]], -1)
    far = torch.cat([out[..., : a - tf * (margin + 2)], out[..., b + tf * (margin + 2) :]], -1)
    far_ref = torch.cat([recon[..., : a - tf * (margin + 2)], recon[..., b + tf * (margin + 2) :]], -1)
    _, pi_in, _ = predict(classifier, out[..., a:b])
    _, pi_orig, _ = predict(classifier, recon[..., a:b])
    repaint_figures = {
        "edits": n_edits,
        "latent_frames": frames,
        "span": [start, end],
        "margin": margin,
        "outside_equals_latent": bool(
            torch.equal(
                torch.cat([edited[..., :start], edited[..., end:]], -1), torch.cat([z[..., :start], z[..., end:]], -1)
            )
        ),
        "mel_l1_db_outside": l1_db(*outside) / n_edits,
        "mel_l1_db_outside_far": l1_db(far, far_ref) / n_edits,
        "mel_l1_db_inside": l1_db(out[..., a:b], recon[..., a:b]) / n_edits,
        "mel_l1_db_reconstruction_vs_input": l1_db(recon[..., : real.shape[-1]], real) / n_edits,
        "new_instrument": _accuracy(pi_in == new_inst),
        "old_instrument_still_heard": float((pi_in == inst).float().mean()),
        "reconstruction_span_instrument": float((pi_orig == inst).float().mean()),
        "chance": 1 / len(INSTRUMENTS),
        "seam": _seam_figures(out, seams_at),
        "seam_reconstruction": _seam_figures(recon, seams_at),
    }

    # repaint strength: the same edits starting part of the way along the original's path
    def strength_row(strength, mels):
        _, heard, _ = predict(classifier, mels[..., a:b])
        return {
            "strength": strength,
            "new_instrument": float((heard == new_inst).float().mean()),
            "old_instrument": float((heard == inst).float().mean()),
            "mel_l1_db_inside": l1_db(mels[..., a:b], recon[..., a:b]) / n_edits,
        }

    rows = []
    for strength in strengths:
        weaker = repaint(
            transformer, z, prompts, start, end, steps, cfg_scale, margin=margin, seed=seed, strength=strength
        )
        rows.append(strength_row(strength, latents_to_mels(autoencoder, weaker)))
    repaint_figures["by_strength"] = rows + [strength_row(1.0, out)]

    # extend: keep the first two thirds, continue for the last third with the clip's own prompt
    keep_frames = end
    own = [prompt_for(INSTRUMENTS[i], MODES[m]) for i, m in zip(inst.tolist(), mode.tolist())]

    def extend_own(crossfade):
        return extend(
            transformer,
            z[..., :keep_frames],
            own,
            frames - keep_frames,
            margin,
            steps=steps,
            cfg_scale=cfg_scale,
            seed=seed + 1,
            crossfade=crossfade,
        )  # (N, C, F, T)

    extended = extend_own("end")
    ext = latents_to_mels(autoencoder, extended)  # (N, 1, n_mels, T tf)
    head = latents_to_mels(autoencoder, z[..., :keep_frames])  # (N, 1, n_mels, keep tf)
    j = keep_frames * tf
    joins = crossfade_boundaries(keep_frames - margin, frames, frames, margin, tf)  # the crossfade before the join
    _, pi_new, _ = predict(classifier, ext[..., j:])
    extend_figures = {
        "kept_frames": keep_frames,
        "added_frames": frames - keep_frames,
        "margin": margin,
        "first_part_equals_latent": bool(
            torch.equal(extended[..., : keep_frames - margin], z[..., : keep_frames - margin])
        ),
        "mel_l1_db_first_part": l1_db(ext[..., : j - tf * (margin + 2)], head[..., : j - tf * (margin + 2)]) / n_edits,
        "prompt_instrument": _accuracy(pi_new == inst),
        "seam": _seam_figures(ext, joins),
        "seam_reconstruction": _seam_figures(recon, joins),
        "seam_crossfade_every_step": _seam_figures(latents_to_mels(autoencoder, extend_own("every_step")), joins),
    }

    # retake: generated clips, their noise turned by each angle
    gen_prompts = [prompt_for(INSTRUMENTS[i], MODES[m]) for i, m in zip(inst.tolist(), mode.tolist())][: per_prompt * 6]
    base = retake(transformer, gen_prompts, frames, 0.0, seed, steps=steps, cfg_scale=cfg_scale)  # (B, C, F, T)
    base_mel = latents_to_mels(autoencoder, base)
    rows = []
    for angle in angles:
        zt = retake(transformer, gen_prompts, frames, angle, seed, steps=steps, cfg_scale=cfg_scale)
        mt = latents_to_mels(autoencoder, zt)
        rows.append(
            {
                "angle": angle,
                "latent_rms": float((zt - base).square().mean().sqrt()),
                "mel_l1_db": l1_db(mt, base_mel) / len(gen_prompts),
            }
        )
    retake_figures = {"clips": len(gen_prompts), "rows": rows}

    # guidance: cfg against apg at each scale, judged by the classifier
    grid, want_i, want_m = prompt_grid(per_prompt)
    real_all, _, _ = labelled_mels(len(grid), seconds, mel, heldout=True, seed=seed + 10_000)
    e_real, _, _ = predict(classifier, real_all)
    sigma = median_distance(e_real[::2], e_real[1::2])  # one KAD bandwidth for every setting, so they compare
    guidance_rows = []
    for scale in scales:
        for kind in ("cfg", "apg"):
            mels = generate_mels(
                transformer, autoencoder, grid, frames, steps=steps, cfg_scale=scale, guidance=kind, seed=seed
            )[:, :1]
            e, pi, pm = predict(classifier, mels)
            guidance_rows.append(
                {
                    "guidance": kind,
                    "scale": scale,
                    "instrument_accuracy": float((pi == want_i).float().mean()),
                    "mode_accuracy": float((pm == want_m).float().mean()),
                    "kad": kernel_audio_distance(e_real, e, sigma),
                    "frechet": frechet_distance(e_real, e),
                }
            )
    return {
        "repaint": repaint_figures,
        "extend": extend_figures,
        "retake": retake_figures,
        "guidance": {"clips": len(grid), "rows": guidance_rows},
        "settings": {"n_edits": n_edits, "seconds": seconds, "steps": steps, "cfg_scale": cfg_scale, "seed": seed},
    }
