"""How close is a reconstruction? Measures on waveforms and on mels.

    spectral_convergence        || |S| - |S_hat| ||_F / || |S| ||_F on one STFT resolution
    log_stft_distance           mean | log|S| - log|S_hat| |
    multi_resolution_stft_distance   spectral convergence + log distance, averaged over 3 STFTs
    si_sdr                      scale-invariant signal-to-distortion ratio in dB (needs the phase!)
    log_mel_l1_db               mean | mel_dB - mel_hat_dB | with an 80 dB floor
    mel_snr                     10 log10(sum mel^2 / sum (mel - mel_hat)^2) on the magnitude mel
    stoi                        short-time objective intelligibility, 0..1 (pystoi, at 16 kHz)
    pesq_score                  perceptual speech quality, about 1..4.6 (optional `pesq`, wideband, 16 kHz)

Timing, with the synth's true onsets and tempo to check against:

    onset_strength / detect_onsets   spectral flux on the log-mel, and its peaks as onset times
    onset_f1                    precision, recall and F1 of detected onsets within +-50 ms
    estimate_tempo / tempo_error     tempo from the flux's autocorrelation, and its error in %

And one for latents: latent_stats (per-channel variance, principal components for 95%);
channel_moments / excess_kurtosis (per-channel mean, std and tails against N(0, 1), notebook 13).
And one for any figure measured on a sample: bootstrap_interval (a percentile confidence interval).
And for two sets of embeddings: kernel_audio_distance (KAD, unbiased MMD^2, RBF kernel, median bandwidth),
and embedding_distances (KAD beside the Frechet distance, each with a bootstrap interval).

Every comparison takes the reference first, the estimate second, and crops both to the shorter.

Taught in notebook 05 (evaluating reconstructions); notebook 00 meets the first ones.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
import torchaudio
from einops import rearrange

from minidcae.core.config import DEFAULT_MEL, MelConfig
from minidcae.sound.audio import STFT_RESOLUTIONS, denormalize_log_mel, mel_spectrogram, stft_magnitude

EPS = 1e-7


def _crop(ref: torch.Tensor, est: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    n = min(ref.shape[-1], est.shape[-1])
    return ref[..., :n].float(), est[..., :n].float()


def stft_distances(ref: torch.Tensor, est: torch.Tensor, n_fft: int, hop: int, eps: float = 0.0):
    """(spectral convergence, log-magnitude distance) of one STFT resolution, as tensors."""
    s, s_hat = stft_magnitude(ref, n_fft, hop, eps), stft_magnitude(est, n_fft, hop, eps)
    # SC = || |S| - |S_hat| ||_F / || |S| ||_F
    sc = torch.linalg.norm(s - s_hat) / (torch.linalg.norm(s) + EPS)
    # mean | log|S| - log|S_hat| |, magnitudes floored at 1e-5
    log_distance = (torch.log(s.clamp(min=1e-5)) - torch.log(s_hat.clamp(min=1e-5))).abs().mean()
    return sc, log_distance


def spectral_convergence(ref: torch.Tensor, est: torch.Tensor, n_fft: int = 1024, hop: int = 256) -> float:
    return float(stft_distances(*_crop(ref, est), n_fft, hop)[0])


def log_stft_distance(ref: torch.Tensor, est: torch.Tensor, n_fft: int = 1024, hop: int = 256) -> float:
    return float(stft_distances(*_crop(ref, est), n_fft, hop)[1])


def multi_resolution_stft_loss(
    ref: torch.Tensor, est: torch.Tensor, resolutions=STFT_RESOLUTIONS, eps: float = 0.0
) -> torch.Tensor:
    """Mean over resolutions of spectral convergence + log-magnitude distance, as a tensor (a loss)."""
    return sum(sum(stft_distances(ref, est, n, h, eps)) for n, h in resolutions) / len(resolutions)


def multi_resolution_stft_distance(ref: torch.Tensor, est: torch.Tensor, resolutions=STFT_RESOLUTIONS) -> float:
    """Mean over resolutions of spectral convergence + log-magnitude distance. 0 is perfect."""
    return float(multi_resolution_stft_loss(*_crop(ref, est), resolutions))


def si_sdr(ref: torch.Tensor, est: torch.Tensor) -> float:
    """Scale-invariant SDR in dB, per channel, then averaged over channels (torchmetrics' convention;
    stereo is not flattened into one signal). Meaningless when the phase is lost."""
    ref, est = _crop(ref, est)
    refs, ests = ref.reshape(-1, ref.shape[-1]), est.reshape(-1, est.shape[-1])  # (channels, L)
    if refs.shape != ests.shape:
        raise ValueError(f"si_sdr: reference has {refs.shape[0]} channels, estimate {ests.shape[0]}")
    return float(torch.stack([_si_sdr_one(r, e) for r, e in zip(refs, ests)]).mean())


def _si_sdr_one(ref: torch.Tensor, est: torch.Tensor) -> torch.Tensor:
    """SI-SDR in dB of one channel, (L,) and (L,), each made zero-mean first."""
    ref, est = ref - ref.mean(), est - est.mean()
    # target = alpha * ref with alpha = <est, ref> / ||ref||^2 ;  SI-SDR = 10 log10(||target||^2 / ||target - est||^2)
    alpha = torch.dot(est, ref) / (torch.dot(ref, ref) + EPS)
    target = alpha * ref
    return 10 * torch.log10(target.pow(2).sum() / ((target - est).pow(2).sum() + EPS) + EPS)


def mel_db(wav: torch.Tensor, cfg: MelConfig = DEFAULT_MEL) -> torch.Tensor:
    """Power mel in decibels: 20 log10(magnitude mel)."""
    return 20 * torch.log10(mel_spectrogram(wav, cfg).clamp(min=1e-10))


def log_mel_l1_db(ref: torch.Tensor, est: torch.Tensor, cfg: MelConfig = DEFAULT_MEL, top_db: float = 80.0) -> float:
    """Mean absolute difference of the two mels in dB, each floored at (reference peak - top_db)."""
    ref, est = _crop(ref, est)
    return mel_l1_db_from_mels(mel_db(ref, cfg), mel_db(est, cfg), top_db)


def mel_db_from_log_mel(x: torch.Tensor, cfg: MelConfig = DEFAULT_MEL) -> torch.Tensor:
    """A normalised log-mel (what the models see and emit) in dB: 20 log10(exp(log_mel))."""
    return 20 / math.log(10) * denormalize_log_mel(x, cfg)


def mel_l1_db_from_mels(ref_db: torch.Tensor, est_db: torch.Tensor, top_db: float = 80.0) -> float:
    """The same measure as log_mel_l1_db, on two mels already in dB (e.g. straight from a decoder)."""
    floor = ref_db.max() - top_db
    return float((ref_db.clamp(min=floor) - est_db.clamp(min=floor)).abs().mean())


def reconstruction_report(ref: torch.Tensor, est: torch.Tensor, cfg: MelConfig = DEFAULT_MEL) -> dict:
    """Every waveform measure above for one (reference, estimate) pair, as a flat dict."""
    return {
        "log_mel_l1_db": log_mel_l1_db(ref, est, cfg),
        "mr_stft": multi_resolution_stft_distance(ref, est),
        "spectral_convergence": spectral_convergence(ref, est, cfg.n_fft, cfg.hop_length),
        "si_sdr_db": si_sdr(ref, est),
    }


def mel_snr(ref: torch.Tensor, est: torch.Tensor, cfg: MelConfig = DEFAULT_MEL) -> float:
    """Signal-to-noise ratio of the magnitude mel in dB: how much of the mel the error leaves.

    Phase-free like log_mel_l1_db, but on the linear magnitude, so loud bins count most.
    Half the amplitude gives 10 log10(1 / 0.5^2) = 6.02 dB; silence as the estimate gives 0 dB.
    """
    ref, est = _crop(ref, est)
    mel, mel_hat = mel_spectrogram(ref, cfg), mel_spectrogram(est, cfg)  # (..., n_mels, frames)
    # SNR = 10 log10( sum mel^2 / sum (mel - mel_hat)^2 )
    return float(10 * torch.log10(mel.pow(2).sum() / ((mel - mel_hat).pow(2).sum() + EPS) + EPS))


# ----------------------------------------------------------------------------- speech measures

SPEECH_RATE = 16000  # STOI and wideband PESQ are computed on 16 kHz audio


def _mono_at(wav: torch.Tensor, sample_rate: int, rate: int = SPEECH_RATE) -> np.ndarray:
    """(channels, samples) or (samples,) at sample_rate -> mono float64 numpy at `rate`."""
    mono = wav.float().reshape(-1, wav.shape[-1]).mean(dim=0)  # (L,)
    if sample_rate != rate:
        mono = torchaudio.functional.resample(mono, sample_rate, rate)  # (L * rate / sample_rate,)
    return mono.double().numpy()


def stoi(ref: torch.Tensor, est: torch.Tensor, sample_rate: int) -> float:
    """Short-time objective intelligibility (Taal et al. 2011) by `pystoi`: about 0 (unintelligible)
    to 1 (as clear as the reference). Built for speech; on music it says how well short-time
    envelopes in one-third-octave bands survive. Both signals are resampled to 16 kHz first."""
    from pystoi import stoi as pystoi_stoi

    ref, est = _crop(ref, est)
    return float(pystoi_stoi(_mono_at(ref, sample_rate), _mono_at(est, sample_rate), SPEECH_RATE))


def pesq_available() -> bool:
    try:
        import pesq  # noqa: F401
    except ImportError:
        return False
    return True


def pesq_score(ref: torch.Tensor, est: torch.Tensor, sample_rate: int) -> float:
    """Wideband PESQ (ITU-T P.862.2) at 16 kHz by the optional `pesq` package: about 1 (bad) to 4.64.

    `pesq` wraps the ITU reference code, whose licence allows evaluation use only; so it is an
    optional dependency (`pip install -e ".[speech]"`, or `.[dev]`). Built for speech: a clip in
    which it finds no utterance raises `pesq.NoUtterancesError`.
    """
    try:
        from pesq import pesq
    except ImportError:
        raise ImportError(
            "pesq_score needs the optional package pesq (ITU code, evaluation use only): "
            'pip install pesq==0.0.4, or pip install -e ".[speech]"'
        ) from None
    ref, est = _crop(ref, est)
    return float(pesq(SPEECH_RATE, _mono_at(ref, sample_rate), _mono_at(est, sample_rate), "wb"))


# ----------------------------------------------------------------------------- onsets and tempo


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


# ----------------------------------------------------------------------------- latents


def latent_stats(z: torch.Tensor) -> dict:
    """How a batch of latents z (B, C, F, T) uses its numbers.

    channel_variance: the variance of each channel over batch, rows and frames.
    The principal components are those of the per-frame vectors: each latent frame (all C * F
    numbers at one time step, what a transformer sees as one token) is one sample.
    explained_variance_ratio: each component's share of the total variance, largest first;
    pca_components_95: how many of the largest hold 95% of it.
    """
    channel_variance = z.float().var(dim=(0, 2, 3), correction=0)  # (C,)
    tokens = rearrange(z.float(), "b c f t -> (b t) (c f)")  # (N, C F)
    centred = tokens - tokens.mean(dim=0)  # (N, C F)
    # the covariance's eigenvalues are the squared singular values of the centred data / N
    variances = torch.linalg.svdvals(centred).pow(2) / tokens.shape[0]  # (min(N, C F),), largest first
    ratio = variances / variances.sum().clamp(min=EPS)
    # the fewest components whose shares add up to 95%
    components = int((torch.cumsum(ratio, 0) < 0.95 - 1e-9).sum()) + 1
    return {
        "channel_variance": channel_variance.tolist(),
        "pca_components_95": min(components, ratio.shape[0]),
        "explained_variance_ratio": ratio.tolist(),
    }


def excess_kurtosis(z: torch.Tensor) -> torch.Tensor:
    """Per-channel excess kurtosis (C,) of latents z (B, C, F, T), over batch, rows and frames:
    E[(z - mu)^4] / sigma^4 - 3, which is 0 for a Gaussian, 3 for a Laplace, -1.2 for a uniform."""
    x = rearrange(z.double(), "b c f t -> c (b f t)")  # (C, N)
    centred = x - x.mean(dim=1, keepdim=True)  # (C, N)
    # kurtosis = m4 / m2^2, with m_k the k-th central moment (population, not the unbiased estimate)
    return centred.pow(4).mean(dim=1) / centred.pow(2).mean(dim=1).pow(2) - 3  # (C,)


def channel_moments(z: torch.Tensor) -> dict:
    """How far latents z (B, C, F, T) are from N(0, 1), channel by channel: mean, std (population) and
    excess kurtosis, each a list of C floats. Per-channel normalisation sets the first two to 0 and 1;
    only the kurtosis says whether the shape (the tails) is Gaussian."""
    x = rearrange(z.double(), "b c f t -> c (b f t)")  # (C, N)
    return {
        "mean": x.mean(dim=1).tolist(),
        "std": x.std(dim=1, correction=0).tolist(),
        "excess_kurtosis": excess_kurtosis(z).tolist(),
    }


# ----------------------------------------------------------------------------- confidence


def bootstrap_interval(statistic, *samples, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple:
    """A percentile bootstrap confidence interval (low, high) for statistic(*samples).

    Each round draws every sample (indexed along its first axis) again with replacement, at its own
    size, and recomputes the statistic; the interval holds the middle `level` of the n_boot values.
    statistic: any function of the samples (arrays or tensors) that returns a number, e.g.
    lambda x: x.mean() for per-clip scores, or a distance between two sets of embeddings."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        # indices drawn with replacement, one draw per sample
        drawn = [
            s[torch.from_numpy(rng.integers(0, len(s), len(s)))]
            if torch.is_tensor(s)
            else np.asarray(s)[rng.integers(0, len(s), len(s))]
            for s in samples
        ]
        values.append(float(statistic(*drawn)))
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


# ----------------------------------------------------------------------------- kernel audio distance


def median_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """The median heuristic's bandwidth: the median Euclidean distance between distinct points of a and b pooled."""
    x = torch.cat([a, b]).double()  # (N + M, E)
    d = torch.cdist(x, x)  # (N + M, N + M)
    off = ~torch.eye(len(x), dtype=torch.bool)
    return float(d[off].median())


def kernel_audio_distance(
    a: torch.Tensor,
    b: torch.Tensor,
    bandwidth: float | None = None,
    a_points: torch.Tensor | None = None,
    b_points: torch.Tensor | None = None,
) -> float:
    """KAD (arXiv 2502.15602): the unbiased MMD^2 between embedding sets a (N, E) and b (M, E), RBF kernel
    k(x, y) = exp(-||x - y||^2 / (2 sigma^2)); sigma = `bandwidth`, by default the median distance between
    distinct points of a and b pooled (median_distance). Unbiased, so it can dip below 0 when the sets
    come from one distribution. Not multiplied by kadtk's scale factor, and on our own embeddings:
    compare it only with itself.

    a_points, b_points (N,), (M,): for a bootstrap draw, which original point each row is. The within-set
    sums then leave out every pair of copies of one point, as they leave out i = j: a point beside its own
    copy has k = 1, and counting it would push the draw's KAD up (embedding_distances)."""
    a, b = a.double(), b.double()
    n, m = len(a), len(b)
    if n < 2 or m < 2:
        raise ValueError(f"KAD needs at least 2 embeddings in each set, got {n} and {m}")
    sigma = median_distance(a, b) if bandwidth is None else float(bandwidth)

    def k(x, y):
        # k(x, y) = exp(-||x - y||^2 / (2 sigma^2))
        return torch.exp(-torch.cdist(x, y).square() / (2 * sigma**2))  # (len x, len y)

    def distinct(points, size):  # (size, size) True where rows i and j are different original points
        points = torch.arange(size) if points is None else torch.as_tensor(points)
        return points[:, None] != points[None, :]

    # MMD_u^2 = sum_{i!=j} k(a_i, a_j) / (n (n-1)) + sum_{i!=j} k(b_i, b_j) / (m (m-1)) - 2 mean_ij k(a_i, b_j)
    kaa, kbb = k(a, a), k(b, b)  # (N, N), (M, M)
    pa, pb = distinct(a_points, n), distinct(b_points, m)  # (N, N), (M, M)
    within_a = (kaa * pa).sum() / pa.sum()
    within_b = (kbb * pb).sum() / pb.sum()
    return float(within_a + within_b - 2 * k(a, b).mean())


def embedding_distances(real: torch.Tensor, generated: torch.Tensor, n_boot: int = 200, seed: int = 0) -> dict:
    """KAD beside the Frechet distance between two embedding sets, each with a 95% bootstrap interval.

    Each round draws both sets again with replacement (the KAD bandwidth fixed at the full sets' median).
    KAD: the percentile interval, each draw's KAD leaving out pairs of copies of one point (an unbiased
    draw, so the interval sits around the estimate). The Frechet distance has no such fix: it is biased
    upwards at these sizes (its mean term alone adds about tr(S_a + S_b) / N), and a draw adds that bias
    again, so the draws sit above the full sets' figure (on 96 clips, often all of them). Its interval is
    the draws' spread moved to sit on the estimate, (q_low, q_high) - median + FD, floored at 0."""
    from minidcae.models.classifier import frechet_distance

    sigma = median_distance(real, generated)
    out = {"bandwidth": sigma, "n_real": len(real), "n_generated": len(generated)}
    out["kad"] = kernel_audio_distance(real, generated, sigma)
    out["frechet"] = frechet_distance(real, generated)
    rng = np.random.default_rng(seed)
    kads, fds = [], []
    for _ in range(n_boot):
        ia = torch.from_numpy(rng.integers(0, len(real), len(real)))  # (N,) which real points, with repeats
        ib = torch.from_numpy(rng.integers(0, len(generated), len(generated)))  # (M,)
        if len(ia.unique()) < 2 or len(ib.unique()) < 2:
            continue  # one point drawn over and over: no pair of different points to compare (tiny sets only)
        kads.append(kernel_audio_distance(real[ia], generated[ib], sigma, ia, ib))
        fds.append(frechet_distance(real[ia], generated[ib]))
    out["kad_interval"] = tuple(float(q) for q in np.quantile(kads, [0.025, 0.975]))
    low, middle, high = np.quantile(fds, [0.025, 0.5, 0.975])
    # the draws' own shift, median - FD, taken off both ends
    shift = float(middle) - out["frechet"]
    out["frechet_interval"] = (max(0.0, float(low) - shift), float(high) - shift)
    return out
