"""minidcae.measure.speech: SI-SDR against hand-worked cases and torchmetrics' formula, STOI and PESQ on speech."""

import math
import sys

import pytest
import torch

from minidcae.core.config import DATA_SAMPLES
from minidcae.measure.speech import pesq_available, pesq_score, si_sdr, stoi
from minidcae.sound.audio_files import load_audio


def test_si_sdr_matches_a_hand_worked_case():
    # ref and err are orthogonal sines (whole periods), so alpha = 1 and SI-SDR = 10 log10(1 / 0.1^2) = 20 dB.
    t = torch.arange(8000) / 8000
    ref = torch.sin(2 * math.pi * 100 * t)
    err = 0.1 * torch.sin(2 * math.pi * 300 * t)
    assert si_sdr(ref, ref + err) == pytest.approx(20.0, abs=1e-3)
    assert si_sdr(ref, 3 * ref + 3 * err) == pytest.approx(20.0, abs=1e-3)  # scale-invariant


def si_sdr_reference(ref, est):
    """torchmetrics' scale_invariant_signal_distortion_ratio(est, ref, zero_mean=True), written out
    over the last axis, then averaged (eps aside)."""
    ref, est = ref - ref.mean(-1, keepdim=True), est - est.mean(-1, keepdim=True)
    alpha = (est * ref).sum(-1, keepdim=True) / (ref * ref).sum(-1, keepdim=True)
    target = alpha * ref
    return (10 * torch.log10(target.pow(2).sum(-1) / (target - est).pow(2).sum(-1))).mean().item()


def test_si_sdr_on_stereo_is_per_channel_then_averaged():
    g = torch.Generator().manual_seed(3)
    ref = torch.randn(2, 4000, generator=g)
    est = ref + torch.tensor([[0.01], [0.3]]) * torch.randn(2, 4000, generator=g)  # left clean, right noisy
    assert si_sdr(ref, est) == pytest.approx(si_sdr_reference(ref, est), abs=1e-3)
    left, right = si_sdr(ref[0], est[0]), si_sdr(ref[1], est[1])
    assert si_sdr(ref, est) == pytest.approx((left + right) / 2, abs=1e-4)
    flattened = si_sdr(ref.flatten(), est.flatten())  # the old way: one signal of both channels
    assert abs(si_sdr(ref, est) - flattened) > 5  # 40 dB and 10 dB average to 25; flattened reads about 13
    # mono is one channel: the same whether (L,) or (1, L)
    assert (
        si_sdr(ref[:1], est[:1]) == si_sdr(ref[0], est[0]) == pytest.approx(si_sdr_reference(ref[0], est[0]), abs=1e-3)
    )


@pytest.fixture(scope="module")
def speech():
    path = DATA_SAMPLES / "audio" / "train" / "speech_at-tone-time-exactly.flac"
    return load_audio(path, 22050)  # (1, samples): a recorded sentence


def test_stoi_is_one_on_identity_falls_with_noise_and_on_reversed_speech(speech):
    assert stoi(speech, speech, 22050) == pytest.approx(1.0, abs=1e-6)
    noise = speech.std() * torch.randn(speech.shape, generator=torch.Generator().manual_seed(4))
    scores = [stoi(speech, speech + level * noise, 22050) for level in (0.1, 0.3, 1.0, 3.0)]
    assert scores == sorted(scores, reverse=True) and scores[-1] < 0.8
    # the same spectrum played backwards: the short-time envelopes no longer match
    assert stoi(speech, speech.flip(-1), 22050) < 0.3


def test_pesq_is_top_score_on_identity_and_falls_with_noise(speech):
    pytest.importorskip("pesq")
    assert pesq_score(speech, speech, 22050) > 4.5  # wideband PESQ tops out at 4.64
    noise = speech.std() * torch.randn(speech.shape, generator=torch.Generator().manual_seed(5))
    scores = [pesq_score(speech, speech + level * noise, 22050) for level in (0.003, 0.01, 0.03, 0.1)]
    assert scores == sorted(scores, reverse=True) and scores[-1] < 2
    assert pesq_score(speech, speech.flip(-1), 22050) < 1.5


def test_pesq_without_the_package_says_how_to_install_it(speech, monkeypatch):
    monkeypatch.setitem(sys.modules, "pesq", None)  # `import pesq` now raises ImportError
    assert not pesq_available()
    with pytest.raises(ImportError, match=r"pip install pesq==0\.0\.4"):
        pesq_score(speech, speech, 22050)
