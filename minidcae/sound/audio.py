"""The audio front end: waveforms -> log-mel "images" -> waveforms.

    log_mel        waveform -> normalised log-mel, about [-1, 1], shape (..., n_mels, frames)
    griffin_lim    normalised log-mel -> waveform, with no phase to start from
    stft, mel_filterbank, mel_to_linear, griffin_lim_magnitude, griffin_lim_step: the steps in between

Reading and writing audio files is minidcae.sound.audio_files. Taught in notebook 00 (audio to mel).
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
import torchaudio

from minidcae.core.config import DEFAULT_MEL, MelConfig
from minidcae.core.errors import AudioFileError

STFT_RESOLUTIONS = ((512, 128), (1024, 256), (2048, 512))  # (n_fft, hop) pairs of the multi-resolution STFT


# ----------------------------------------------------------------------------- log-mel


@lru_cache(maxsize=16)
def _mel_transform(cfg: MelConfig, device: str) -> torchaudio.transforms.MelSpectrogram:
    # center=False: we pad ourselves, so that every preset gets L // hop frames.
    return torchaudio.transforms.MelSpectrogram(
        sample_rate=cfg.sample_rate,
        n_fft=cfg.n_fft,
        win_length=cfg.win_length,
        hop_length=cfg.hop_length,
        f_min=cfg.f_min,
        f_max=cfg.f_max,
        n_mels=cfg.n_mels,
        power=1.0,
        center=False,
        norm="slaney",
        mel_scale="slaney",
    ).to(device)


def pad_for_stft(wav: torch.Tensor, cfg: MelConfig) -> torch.Tensor:
    """Zero-pad the end to pad_multiple, then reflect-pad (n_fft - hop) / 2 each side."""
    length = wav.shape[-1]
    extra = -length % cfg.pad_multiple
    side = (cfg.n_fft - cfg.hop_length) // 2
    x = wav.reshape(-1, 1, length)  # (N, 1, L)
    x = F.pad(x, (0, extra))  # (N, 1, L + extra)
    x = F.pad(x, (side, side), mode="reflect")  # (N, 1, L + extra + n_fft - hop)
    return x.reshape(*wav.shape[:-1], x.shape[-1])


def stft(wav: torch.Tensor, cfg: MelConfig = DEFAULT_MEL) -> torch.Tensor:
    """Complex STFT with our padding: (..., samples) -> (..., n_freqs, samples // hop)."""
    x = pad_for_stft(wav.float(), cfg)  # (..., L')
    flat = x.reshape(-1, x.shape[-1])  # (N, L')
    window = torch.hann_window(cfg.win_length, device=wav.device)
    spec = torch.stft(
        flat, cfg.n_fft, cfg.hop_length, cfg.win_length, window=window, center=False, return_complex=True
    )  # (N, n_freqs, frames)
    return spec.reshape(*wav.shape[:-1], *spec.shape[-2:])


def stft_magnitude(wav: torch.Tensor, n_fft: int, hop: int, eps: float = 0.0) -> torch.Tensor:
    """(..., samples) -> (..., n_fft / 2 + 1, frames) magnitude with a Hann window.

    eps > 0 gives sqrt(|S|^2 + eps): the same magnitude, with a gradient that stays finite at a
    zero bin (for training losses)."""
    flat = wav.reshape(-1, wav.shape[-1])  # (N, L)
    spec = torch.stft(
        flat, n_fft, hop, window=torch.hann_window(n_fft, device=wav.device), return_complex=True
    )  # (N, F, T)
    magnitude = spec.abs() if eps == 0 else (spec.real.square() + spec.imag.square() + eps).sqrt()
    return magnitude.reshape(*wav.shape[:-1], *spec.shape[-2:])


def mel_spectrogram(wav: torch.Tensor, cfg: MelConfig = DEFAULT_MEL, name: str = "waveform") -> torch.Tensor:
    """Magnitude mel spectrogram: (..., samples) -> (..., n_mels, samples // hop)."""
    if wav.shape[-1] < cfg.n_fft:
        ms = 1000 * wav.shape[-1] / cfg.sample_rate
        raise AudioFileError(
            name,
            f"{wav.shape[-1]} samples ({ms:.0f} ms) is shorter than one STFT window "
            f"({cfg.n_fft} samples at {cfg.sample_rate} Hz); use a longer clip",
        )
    if not torch.isfinite(wav).all():
        raise AudioFileError(name, "contains NaN or infinite samples")
    transform = _mel_transform(cfg, str(wav.device))
    if cfg.magnitude_eps == 0:
        return transform(pad_for_stft(wav.float(), cfg))  # (..., n_mels, frames): the mel of |STFT|
    spec = torch.view_as_real(stft(wav, cfg))  # (..., n_freqs, frames, 2): real and imaginary parts
    # |X| = sqrt(re^2 + im^2 + eps), as ACE-Step computes it: silence gets a floor of sqrt(eps), not 0
    magnitude = torch.sqrt(spec.pow(2).sum(dim=-1) + cfg.magnitude_eps)  # (..., n_freqs, frames)
    return transform.mel_scale(magnitude)  # (..., n_mels, frames)


def normalize_log_mel(log_mel: torch.Tensor, cfg: MelConfig = DEFAULT_MEL) -> torch.Tensor:
    # x = (log_mel + offset) / scale * 2 - 1
    return (log_mel + cfg.norm_offset) / cfg.norm_scale * 2 - 1


def denormalize_log_mel(x: torch.Tensor, cfg: MelConfig = DEFAULT_MEL) -> torch.Tensor:
    # log_mel = (x + 1) / 2 * scale - offset   (the exact inverse of normalize_log_mel)
    return (x + 1) / 2 * cfg.norm_scale - cfg.norm_offset


def log_mel(wav: torch.Tensor, cfg: MelConfig = DEFAULT_MEL, name: str = "waveform") -> torch.Tensor:
    """Normalised log-mel: (..., samples) -> (..., n_mels, frames), values about [-1, 1]."""
    mel = mel_spectrogram(wav, cfg, name)  # (..., n_mels, frames)
    # log_mel = log(max(mel, floor))
    return normalize_log_mel(torch.log(mel.clamp(min=cfg.log_floor)), cfg)


def log_mel_to_mel(x: torch.Tensor, cfg: MelConfig = DEFAULT_MEL) -> torch.Tensor:
    """Normalised log-mel back to the magnitude mel: exp(denormalize(x))."""
    return torch.exp(denormalize_log_mel(x, cfg))


# ----------------------------------------------------------------------------- back to sound


@lru_cache(maxsize=16)
def mel_filterbank(cfg: MelConfig, device: str = "cpu") -> torch.Tensor:
    """The Slaney mel filterbank torchaudio uses: (n_freqs, n_mels); mel = fb^T @ linear."""
    return torchaudio.functional.melscale_fbanks(
        cfg.n_freqs,
        cfg.f_min,
        cfg.f_max,
        cfg.n_mels,
        cfg.sample_rate,
        norm="slaney",
        mel_scale="slaney",
    ).to(device)


def mel_to_linear(mel: torch.Tensor, cfg: MelConfig = DEFAULT_MEL, n_iter: int = 100) -> torch.Tensor:
    """Magnitude mel (..., n_mels, frames) -> non-negative linear magnitude (..., n_freqs, frames).

    64 mel bands cannot pin down 513 frequency bins, so we look for the non-negative spectrum s
    whose mel is closest: minimise || fb^T s - mel ||^2 subject to s >= 0. Plain least squares
    (torchaudio's InverseMelScale) goes negative and, clipped, misses the mel by about 5%;
    non-negative least squares by multiplicative updates gets within about 1% in 100 steps.
    """
    fb = mel_filterbank(cfg, str(mel.device))  # (F, M)
    fb_t = fb.T.contiguous()  # (M, F)
    mel = mel.float()
    s = (torch.linalg.pinv(fb_t) @ mel).clamp(min=0) + 1e-6  # (..., F, T): a positive start
    numerator = fb @ mel  # (..., F, T)
    for _ in range(n_iter):
        # s <- s * (fb mel) / (fb fb^T s): never negative, and the error never grows (Lee & Seung).
        # The floor keeps bins that head to zero out of the slow subnormal floats.
        s = (s * numerator / (fb @ (fb_t @ s) + 1e-10)).clamp(min=1e-12)
    return s


def _istft_centred(spec: torch.Tensor, cfg: MelConfig) -> torch.Tensor:
    """(N, n_freqs, frames) complex -> (N, frames * hop - hop / 2): torch's centred inverse STFT."""
    window = torch.hann_window(cfg.win_length, device=spec.device)
    length = spec.shape[-1] * cfg.hop_length - cfg.hop_length // 2
    return torch.istft(spec, cfg.n_fft, cfg.hop_length, cfg.win_length, window=window, length=length)


def griffin_lim_step(
    phase: torch.Tensor,
    magnitude: torch.Tensor,
    cfg: MelConfig = DEFAULT_MEL,
    previous: torch.Tensor | None = None,
    momentum: float = 0.99,
):
    """One Griffin-Lim iteration: (phase, magnitude) -> (better phase, rebuilt STFT).

    phase: complex, |phase| = 1, (N, n_freqs, frames); magnitude: real, same shape.
    previous: the rebuilt STFT of the last step, for the momentum of "fast Griffin-Lim"
    (Perraudin et al. 2013); None gives the plain 1984 update.
    """
    # x = iSTFT(|S| e^{i phi}): the waveform closest to our magnitude with this phase
    wav = _istft_centred(magnitude * phase, cfg)  # (N, frames * hop - hop / 2)
    window = torch.hann_window(cfg.win_length, device=magnitude.device)
    # S' = STFT(x): what that waveform really sounds like (a consistent spectrogram)
    rebuilt = torch.stft(
        wav,
        cfg.n_fft,
        cfg.hop_length,
        cfg.win_length,
        window=window,
        center=True,
        pad_mode="reflect",
        return_complex=True,
    )  # (N, n_freqs, frames)
    # fast Griffin-Lim: c = S' - a / (1 + a) S'_prev, a step past S', away from the last one
    c = rebuilt if previous is None else rebuilt - previous * (momentum / (1 + momentum))
    # keep its phase, drop its magnitude: phi' = c / |c|
    return c.div(c.abs().add(1e-16)), rebuilt  # (N, n_freqs, frames) each


def griffin_lim_magnitude(magnitude: torch.Tensor, cfg: MelConfig = DEFAULT_MEL, n_iter: int = 32) -> torch.Tensor:
    """Linear STFT magnitude (..., n_freqs, frames) -> waveform (..., frames * hop).

    Griffin-Lim guesses a phase that agrees with the magnitude: start from zero phase
    (deterministic), go to a waveform, take its STFT, keep that phase with our magnitude, repeat
    (with momentum 0.99). The same arithmetic as torchaudio.functional.griffinlim, one
    `griffin_lim_step` at a time.
    """
    mag = magnitude.reshape(-1, *magnitude.shape[-2:])  # (N, n_freqs, frames)
    phase = torch.ones_like(mag, dtype=mag.dtype.to_complex())  # e^{i 0} = 1: zero phase
    previous = None
    for _ in range(n_iter):
        phase, previous = griffin_lim_step(phase, mag, cfg, previous)  # (N, n_freqs, frames) each
    wav = _istft_centred(mag * phase, cfg)  # (N, frames * hop - hop / 2)
    # torch's STFT centres frame k on sample k * hop; ours sit hop / 2 later.
    wav = F.pad(wav, (cfg.hop_length // 2, 0))  # (N, frames * hop)
    return wav.reshape(*magnitude.shape[:-2], wav.shape[-1])  # (..., frames * hop)


def griffin_lim(x: torch.Tensor, cfg: MelConfig = DEFAULT_MEL, n_iter: int = 32) -> torch.Tensor:
    """Normalised log-mel (..., n_mels, frames) -> waveform (..., frames * hop), via mel_to_linear."""
    magnitude = mel_to_linear(log_mel_to_mel(x, cfg), cfg)  # (..., n_freqs, frames)
    return griffin_lim_magnitude(magnitude, cfg, n_iter)
