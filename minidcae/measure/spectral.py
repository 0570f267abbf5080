"""How close is a reconstruction's spectrum? Distances on STFT magnitudes and on mels.

    stft_distances              (spectral convergence, log-magnitude distance) of one STFT resolution
    spectral_convergence        || |S| - |S_hat| ||_F / || |S| ||_F on one STFT resolution
    log_stft_distance           mean | log|S| - log|S_hat| |
    multi_resolution_stft_loss / multi_resolution_stft_distance
                                spectral convergence + log distance, averaged over 3 STFTs (a loss, a figure)
    mel_db / mel_db_from_log_mel   a mel in decibels, from a waveform or from a normalised log-mel
    log_mel_l1_db / mel_l1_db_from_mels   mean | mel_dB - mel_hat_dB | with an 80 dB floor
    mel_snr                     10 log10(sum mel^2 / sum (mel - mel_hat)^2) on the magnitude mel

Every comparison takes the reference first, the estimate second, and crops both to the shorter
(crop_to_shorter). The phase-aware and speech measures are minidcae.measure.speech, onsets and
tempo minidcae.measure.rhythm. Taught in notebook 05 (evaluating reconstructions); notebook 00 meets
the first ones.
"""

from __future__ import annotations

import math

import torch

from minidcae.core.config import DEFAULT_MEL, MelConfig
from minidcae.sound.audio import STFT_RESOLUTIONS, denormalize_log_mel, mel_spectrogram, stft_magnitude

EPS = 1e-7


def crop_to_shorter(ref: torch.Tensor, est: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both signals (..., L) cut to the shorter length, as float32."""
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
    return float(stft_distances(*crop_to_shorter(ref, est), n_fft, hop)[0])


def log_stft_distance(ref: torch.Tensor, est: torch.Tensor, n_fft: int = 1024, hop: int = 256) -> float:
    return float(stft_distances(*crop_to_shorter(ref, est), n_fft, hop)[1])


def multi_resolution_stft_loss(
    ref: torch.Tensor, est: torch.Tensor, resolutions=STFT_RESOLUTIONS, eps: float = 0.0
) -> torch.Tensor:
    """Mean over resolutions of spectral convergence + log-magnitude distance, as a tensor (a loss)."""
    return sum(sum(stft_distances(ref, est, n, h, eps)) for n, h in resolutions) / len(resolutions)


def multi_resolution_stft_distance(ref: torch.Tensor, est: torch.Tensor, resolutions=STFT_RESOLUTIONS) -> float:
    """Mean over resolutions of spectral convergence + log-magnitude distance. 0 is perfect."""
    return float(multi_resolution_stft_loss(*crop_to_shorter(ref, est), resolutions))


def mel_db(wav: torch.Tensor, cfg: MelConfig = DEFAULT_MEL) -> torch.Tensor:
    """Power mel in decibels: 20 log10(magnitude mel)."""
    return 20 * torch.log10(mel_spectrogram(wav, cfg).clamp(min=1e-10))


def log_mel_l1_db(ref: torch.Tensor, est: torch.Tensor, cfg: MelConfig = DEFAULT_MEL, top_db: float = 80.0) -> float:
    """Mean absolute difference of the two mels in dB, each floored at (reference peak - top_db)."""
    ref, est = crop_to_shorter(ref, est)
    return mel_l1_db_from_mels(mel_db(ref, cfg), mel_db(est, cfg), top_db)


def mel_db_from_log_mel(x: torch.Tensor, cfg: MelConfig = DEFAULT_MEL) -> torch.Tensor:
    """A normalised log-mel (what the models see and emit) in dB: 20 log10(exp(log_mel))."""
    return 20 / math.log(10) * denormalize_log_mel(x, cfg)


def mel_l1_db_from_mels(ref_db: torch.Tensor, est_db: torch.Tensor, top_db: float = 80.0) -> float:
    """The same measure as log_mel_l1_db, on two mels already in dB (e.g. straight from a decoder)."""
    floor = ref_db.max() - top_db
    return float((ref_db.clamp(min=floor) - est_db.clamp(min=floor)).abs().mean())


def mel_snr(ref: torch.Tensor, est: torch.Tensor, cfg: MelConfig = DEFAULT_MEL) -> float:
    """Signal-to-noise ratio of the magnitude mel in dB: how much of the mel the error leaves.

    Phase-free like log_mel_l1_db, but on the linear magnitude, so loud bins count most.
    Half the amplitude gives 10 log10(1 / 0.5^2) = 6.02 dB; silence as the estimate gives 0 dB.
    """
    ref, est = crop_to_shorter(ref, est)
    mel, mel_hat = mel_spectrogram(ref, cfg), mel_spectrogram(est, cfg)  # (..., n_mels, frames)
    # SNR = 10 log10( sum mel^2 / sum (mel - mel_hat)^2 )
    return float(10 * torch.log10(mel.pow(2).sum() / ((mel - mel_hat).pow(2).sum() + EPS) + EPS))
