"""Timing, with the synth's true onsets and tempo to check against.

    frame_times                 the centre of each mel frame in seconds
    onset_strength / detect_onsets   spectral flux on the log-mel, and its peaks as onset times
    onset_f1                    precision, recall and F1 of detected onsets within +-50 ms
    estimate_tempo / tempo_error     tempo from the flux's autocorrelation, and its error in %
    is_octave_error             whether an estimate is twice or half the true tempo

Taught in notebook 05 (evaluating reconstructions: onset F1 against time compression).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from minidcae.core.config import DEFAULT_MEL, MelConfig
from minidcae.measure.spectral import EPS, mel_db


def frame_times(n_frames: int, cfg: MelConfig = DEFAULT_MEL) -> torch.Tensor:
    """Centre of each mel frame in seconds: frame k sits at (k hop + hop / 2) / sr."""
    return (torch.arange(n_frames) * cfg.hop_length + cfg.hop_length / 2) / cfg.sample_rate


def onset_strength(
    wav: torch.Tensor, cfg: MelConfig = DEFAULT_MEL, top_db: float = 80.0, lead_sets_scale: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spectral flux: how much the log-mel rises from one frame to the next.

    (..., samples) -> (times, flux), both (lead + frames,): flux[k] is the rise into the frame
    centred at times[k] seconds, scaled so the largest is 1. A note or a drum hit makes many bands
    louder at once; a decaying note only makes them quieter, which the half-wave rectification
    ignores. The clip is taken to follow silence: `lead` frames of zeros go before it (times < 0),
    so a sound already there at t = 0 rises like any other onset.
    lead_sets_scale=False scales by the largest rise inside the clip (times > 0) instead: out of
    digital silence every band jumps at once, and in Griffin-Lim audio (which fills every band
    with some noise) that jump can be several times any note's, hiding the notes below a
    threshold relative to it (notebook 05). The rise out of the lead may then exceed 1.
    """
    mono = wav.float().reshape(-1, wav.shape[-1]).mean(dim=0)  # (L,)
    lead = -(-cfg.n_fft // cfg.hop_length)  # one window's worth of silent frames
    mono = F.pad(mono, (lead * cfg.hop_length, 0))  # (lead hop + L,)
    db = mel_db(mono, cfg)  # (n_mels, lead + frames)
    db = db.clamp(min=db.max() - top_db)  # what is quieter than the floor cannot rise
    # flux[k] = sum_m max(0, L[m, k] - L[m, k - 1])
    flux = (db[:, 1:] - db[:, :-1]).clamp(min=0).sum(dim=0)  # (lead + frames - 1,)
    flux = F.pad(flux, (1, 0))  # (lead + frames,): the first frame has nothing before it
    times = frame_times(flux.shape[0], cfg) - lead * cfg.hop_length / cfg.sample_rate  # (lead + frames,)
    scale = flux.max() if lead_sets_scale else flux[times > 0].max()  # times > 0: inside the clip
    return times, flux / scale.clamp(min=EPS)


def detect_onsets(
    wav: torch.Tensor,
    cfg: MelConfig = DEFAULT_MEL,
    threshold: float = 0.2,
    min_gap: float = 0.05,
    lead_sets_scale: bool = True,
) -> list[float]:
    """Onset times in seconds: frames where the flux is the largest within +-min_gap seconds
    and at least `threshold` (a fraction of the clip's largest flux). A peak in the silent lead
    (a sound under way at the start) is reported at 0. lead_sets_scale: see onset_strength."""
    times, flux = onset_strength(wav, cfg, lead_sets_scale=lead_sets_scale)  # (n,), (n,)
    gap = max(1, round(min_gap * cfg.frame_rate))  # frames
    # a peak is its own neighbourhood's maximum: max over frames k - gap .. k + gap
    local_max = F.max_pool1d(flux[None, None], 2 * gap + 1, stride=1, padding=gap)[0, 0]  # (n,)
    peaks = torch.nonzero((flux == local_max) & (flux >= threshold)).flatten()  # (n_onsets,)
    return times[peaks].clamp(min=0).tolist()


def onset_f1(onsets_true, onsets_est, tolerance: float = 0.05) -> dict:
    """Precision, recall and F1 of estimated onset times (s) against true ones.

    An estimate is a hit when it lies within +-tolerance of a true onset not yet matched. Both
    lists are walked in time order, taking the earliest possible pair each time; on a line this
    greedy pairing finds as many hits as any pairing can.
    With no true onsets and no estimates everything is 1; otherwise an empty side scores 0.
    """
    true, est = sorted(onsets_true), sorted(onsets_est)
    i = j = hits = 0
    while i < len(true) and j < len(est):
        if abs(est[j] - true[i]) <= tolerance:
            hits, i, j = hits + 1, i + 1, j + 1
        elif est[j] < true[i]:
            j += 1  # this estimate is too early for every true onset left: a false alarm
        else:
            i += 1  # this true onset has no estimate near it: a miss
    if not true and not est:
        return {"precision": 1.0, "recall": 1.0, "f1": 1.0, "hits": 0}
    # P = hits / estimates,  R = hits / true onsets,  F1 = 2 P R / (P + R)
    precision = hits / len(est) if est else 0.0
    recall = hits / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "hits": hits}


def estimate_tempo(wav: torch.Tensor, cfg: MelConfig = DEFAULT_MEL, bpm_range=(60.0, 180.0)) -> float:
    """Tempo in BPM: the beat period is the lag at which the onset strength best matches itself.

    The autocorrelation r[lag] = sum_n e[n] e[n + lag] of the flux e (mean removed) is taken for
    every lag between 60 / 180 and 60 / 60 seconds; the best lag is refined to a fraction of a
    frame by a parabola through it and its neighbours. A rhythm also repeats at twice and half its
    beat, so the answer can be off by an octave (x2 or x0.5): tempo_error reports that as it is.
    """
    flux = onset_strength(wav, cfg)[1]  # (n,)
    e = flux - flux.mean()  # (n,)
    low_lag = max(1, math.floor(60 * cfg.frame_rate / bpm_range[1]))  # frames per beat at the fastest tempo
    high_lag = min(e.shape[0] - 2, math.ceil(60 * cfg.frame_rate / bpm_range[0]))  # ... at the slowest
    if high_lag <= low_lag:
        raise ValueError(f"{e.shape[0]} frames are too few to see a beat of {bpm_range[0]:g} BPM; use a longer clip")
    lags = torch.arange(low_lag - 1, high_lag + 2)  # one extra on each side for the parabola
    # r[lag] = sum_n e[n] e[n + lag]
    r = torch.stack([(e[: e.shape[0] - lag] * e[lag:]).sum() for lag in lags.tolist()])  # (n_lags,)
    k = int(torch.argmax(r[1:-1])) + 1  # the best lag inside the range
    # parabola through (-1, r[k-1]), (0, r[k]), (1, r[k+1]): its top is at
    # delta = (r[k-1] - r[k+1]) / (2 (r[k-1] - 2 r[k] + r[k+1]))
    curvature = r[k - 1] - 2 * r[k] + r[k + 1]
    delta = float(0.5 * (r[k - 1] - r[k + 1]) / curvature) if curvature < 0 else 0.0
    lag = float(lags[k]) + delta
    # BPM = 60 s / (lag frames / frame rate)
    return 60 * cfg.frame_rate / lag


def tempo_error(true_bpm: float, est_bpm: float) -> float:
    """|est - true| / true in percent. An octave error (est = 2 true or true / 2) counts as 100 or
    50%, as it sounds; see is_octave_error to tell those apart."""
    return 100 * abs(est_bpm - true_bpm) / true_bpm


def is_octave_error(true_bpm: float, est_bpm: float, tolerance: float = 4.0) -> bool:
    """True when est is within `tolerance` % of twice or half the true tempo."""
    return min(tempo_error(2 * true_bpm, est_bpm), tempo_error(true_bpm / 2, est_bpm)) <= tolerance
