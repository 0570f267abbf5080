"""How close is a reconstruction? Measures on waveforms and on mels.

    spectral_convergence        || |S| - |S_hat| ||_F / || |S| ||_F on one STFT resolution
    log_stft_distance           mean | log|S| - log|S_hat| |
    multi_resolution_stft_distance   spectral convergence + log distance, averaged over 3 STFTs
    si_sdr                      scale-invariant signal-to-distortion ratio in dB (needs the phase!)
    log_mel_l1_db               mean | mel_dB - mel_hat_dB | with an 80 dB floor

Every function takes the reference first, the estimate second, and crops both to the shorter.
"""

from __future__ import annotations

import math

import torch

from .audio import denormalize_log_mel, mel_spectrogram
from .config import DEFAULT_MEL, MelConfig

STFT_RESOLUTIONS = ((512, 128), (1024, 256), (2048, 512))  # (n_fft, hop) pairs
EPS = 1e-7


def _crop(ref: torch.Tensor, est: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    n = min(ref.shape[-1], est.shape[-1])
    return ref[..., :n].float(), est[..., :n].float()


def stft_magnitude(wav: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """(..., samples) -> (..., n_fft / 2 + 1, frames) magnitude with a Hann window."""
    flat = wav.reshape(-1, wav.shape[-1])  # (N, L)
    spec = torch.stft(flat, n_fft, hop, window=torch.hann_window(n_fft, device=wav.device),
                      return_complex=True)  # (N, F, T)
    return spec.abs().reshape(*wav.shape[:-1], *spec.shape[-2:])


def spectral_convergence(ref: torch.Tensor, est: torch.Tensor, n_fft: int = 1024, hop: int = 256) -> float:
    ref, est = _crop(ref, est)
    s, s_hat = stft_magnitude(ref, n_fft, hop), stft_magnitude(est, n_fft, hop)
    # SC = || |S| - |S_hat| ||_F / || |S| ||_F
    return float(torch.linalg.norm(s - s_hat) / (torch.linalg.norm(s) + EPS))


def log_stft_distance(ref: torch.Tensor, est: torch.Tensor, n_fft: int = 1024, hop: int = 256) -> float:
    ref, est = _crop(ref, est)
    s, s_hat = stft_magnitude(ref, n_fft, hop), stft_magnitude(est, n_fft, hop)
    # mean | log|S| - log|S_hat| |, magnitudes floored at 1e-5
    return float((torch.log(s.clamp(min=1e-5)) - torch.log(s_hat.clamp(min=1e-5))).abs().mean())


def multi_resolution_stft_distance(ref: torch.Tensor, est: torch.Tensor,
                                   resolutions=STFT_RESOLUTIONS) -> float:
    """Mean over resolutions of spectral convergence + log-magnitude distance. 0 is perfect."""
    terms = [spectral_convergence(ref, est, n, h) + log_stft_distance(ref, est, n, h) for n, h in resolutions]
    return sum(terms) / len(terms)


def si_sdr(ref: torch.Tensor, est: torch.Tensor) -> float:
    """Scale-invariant SDR in dB over the whole signal. Meaningless when the phase is lost."""
    ref, est = _crop(ref, est)
    ref, est = ref.flatten() - ref.mean(), est.flatten() - est.mean()
    # target = alpha * ref with alpha = <est, ref> / ||ref||^2 ;  SI-SDR = 10 log10(||target||^2 / ||target - est||^2)
    alpha = torch.dot(est, ref) / (torch.dot(ref, ref) + EPS)
    target = alpha * ref
    return float(10 * torch.log10(target.pow(2).sum() / ((target - est).pow(2).sum() + EPS) + EPS))


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
