"""Measures that need the waveform itself, and the two built for speech.

    si_sdr          scale-invariant signal-to-distortion ratio in dB (needs the phase!)
    stoi            short-time objective intelligibility, 0..1 (pystoi, at 16 kHz)
    pesq_score      perceptual speech quality, about 1..4.6 (optional `pesq`, wideband, 16 kHz)
    pesq_available  whether the optional `pesq` package is installed

Every comparison takes the reference first, the estimate second, and crops both to the shorter.
The spectral distances are minidcae.measure.spectral. Taught in notebook 05 (evaluating reconstructions).
"""

from __future__ import annotations

import numpy as np
import torch
import torchaudio

from minidcae.measure.spectral import EPS, crop_to_shorter

SPEECH_RATE = 16000  # STOI and wideband PESQ are computed on 16 kHz audio


def si_sdr(ref: torch.Tensor, est: torch.Tensor) -> float:
    """Scale-invariant SDR in dB, per channel, then averaged over channels (torchmetrics' convention;
    stereo is not flattened into one signal). Meaningless when the phase is lost."""
    ref, est = crop_to_shorter(ref, est)
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

    ref, est = crop_to_shorter(ref, est)
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
    ref, est = crop_to_shorter(ref, est)
    return float(pesq(SPEECH_RATE, _mono_at(ref, sample_rate), _mono_at(est, sample_rate), "wb"))
