"""What an edit did, measured: seams, the new instrument heard, what stayed the same (notebook 12's figures).

    frame_changes           the mel change from each frame to the next
    seam_jumps              the change across given frame boundaries, and the clip's own frame-to-frame changes
    crossfade_boundaries    the latent edges of a repainted span and its crossfade, in mel frames
    edit_report             repaint, extend, retake and APG against CFG measured as one dict (tools/write_editing_report.py),
                            every clip heard by obedience.judge

Editing itself is minidcae.generation.editing. Taught in notebook 12 (editing).
"""

from __future__ import annotations

import math

import torch

from minidcae.core.config import MelConfig
from minidcae.generation.editing import extend, repaint
from minidcae.generation.pipeline import generate_mels, latents_to_mels
from minidcae.generation.sampling import prompt_for, prompt_grid, retake
from minidcae.measure.distances import frechet_distance, kernel_audio_distance
from minidcae.measure.obedience import judge
from minidcae.measure.spectral import mel_db_from_log_mel, mel_l1_db_from_mels
from minidcae.models.classifier import labelled_mels
from minidcae.sound.synth import INSTRUMENTS, MODES


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


def _heard(classifier, mels: torch.Tensor, want: torch.Tensor, others: dict) -> dict:
    """The instrument the classifier hears in mels (N, 1, n_mels, T) against want (N,): {"accuracy", "interval"}
    (500 bootstrap rounds), and how often it hears each of `others` ({name: instruments (N,)}) instead."""
    verdict = judge(classifier, mels, want, n_boot=500)
    heard = verdict["heard"]["instrument"]  # (N,)
    out = {"accuracy": verdict["instrument"]["mean"], "interval": tuple(verdict["instrument"]["interval"])}
    return {**out, **{name: float((heard == v).double().mean()) for name, v in others.items()}}


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
    mel: MelConfig,
    *,
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
    edited = repaint(
        transformer, z, prompts, start, end, margin, seed, steps=steps, cfg_scale=cfg_scale
    )  # (N, C, F, T)
    out = latents_to_mels(autoencoder, edited)  # (N, 1, n_mels, T tf)
    a, b = start * tf, end * tf  # the span in mel frames
    seams_at = crossfade_boundaries(start, end, frames, margin, tf)  # mel frames across the two crossfades
    outside = torch.cat([out[..., :a], out[..., b:]], -1), torch.cat([recon[..., :a], recon[..., b:]], -1)
    far = torch.cat([out[..., : a - tf * (margin + 2)], out[..., b + tf * (margin + 2) :]], -1)
    far_ref = torch.cat([recon[..., : a - tf * (margin + 2)], recon[..., b + tf * (margin + 2) :]], -1)
    inside = _heard(classifier, out[..., a:b], new_inst, {"old": inst})
    original = _heard(classifier, recon[..., a:b], inst, {})
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
        "new_instrument": {k: inside[k] for k in ("accuracy", "interval")},
        "old_instrument_still_heard": inside["old"],
        "reconstruction_span_instrument": original["accuracy"],
        "chance": 1 / len(INSTRUMENTS),
        "seam": _seam_figures(out, seams_at),
        "seam_reconstruction": _seam_figures(recon, seams_at),
    }

    # repaint strength: the same edits starting part of the way along the original's path
    def strength_row(strength, mels):
        heard = _heard(classifier, mels[..., a:b], new_inst, {"old": inst})
        return {
            "strength": strength,
            "new_instrument": heard["accuracy"],
            "old_instrument": heard["old"],
            "mel_l1_db_inside": l1_db(mels[..., a:b], recon[..., a:b]) / n_edits,
        }

    rows = []
    for strength in strengths:
        weaker = repaint(
            transformer, z, prompts, start, end, margin, seed, strength=strength, steps=steps, cfg_scale=cfg_scale
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
    extend_figures = {
        "kept_frames": keep_frames,
        "added_frames": frames - keep_frames,
        "margin": margin,
        "first_part_equals_latent": bool(
            torch.equal(extended[..., : keep_frames - margin], z[..., : keep_frames - margin])
        ),
        "mel_l1_db_first_part": l1_db(ext[..., : j - tf * (margin + 2)], head[..., : j - tf * (margin + 2)]) / n_edits,
        "prompt_instrument": _heard(classifier, ext[..., j:], inst, {}),
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
    e_real = judge(classifier, real_all, None, n_boot=0)["embeddings"]  # (N, E)
    guidance_rows = []
    for scale in scales:
        for kind in ("cfg", "apg"):
            mels = generate_mels(
                transformer, autoencoder, grid, frames, steps=steps, cfg_scale=scale, guidance=kind, seed=seed
            )[:, :1]
            heard = judge(classifier, mels, want_i, want_m, n_boot=0)
            guidance_rows.append(
                {
                    "guidance": kind,
                    "scale": scale,
                    "instrument_accuracy": heard["instrument"]["mean"],
                    "mode_accuracy": heard["mode"]["mean"],
                    # bandwidth from the real clips alone: one bandwidth for every setting, so their KADs compare
                    "kad": kernel_audio_distance(e_real, heard["embeddings"], "reference"),
                    "frechet": frechet_distance(e_real, heard["embeddings"]),
                }
            )
    return {
        "repaint": repaint_figures,
        "extend": extend_figures,
        "retake": retake_figures,
        "guidance": {"clips": len(grid), "rows": guidance_rows},
        "settings": {"n_edits": n_edits, "seconds": seconds, "steps": steps, "cfg_scale": cfg_scale, "seed": seed},
    }
