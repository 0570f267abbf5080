"""minidcae.measure.spectral: STFT and mel distances on hand-worked cases (identity, half the amplitude)."""

import math

import pytest
import torch

from minidcae.measure.spectral import (
    log_mel_l1_db,
    log_stft_distance,
    mel_snr,
    multi_resolution_stft_distance,
    spectral_convergence,
)
from minidcae.measure.speech import si_sdr


@pytest.fixture
def music():
    g = torch.Generator().manual_seed(0)
    t = torch.arange(22050 * 2) / 22050
    x = sum(torch.sin(2 * math.pi * f * t) / (i + 1) for i, f in enumerate((220, 330, 440, 660)))
    return (0.2 * x + 0.05 * torch.randn(t.shape, generator=g))[None]


def test_identity_is_perfect(music):
    assert spectral_convergence(music, music) == 0
    assert log_stft_distance(music, music) == 0
    assert multi_resolution_stft_distance(music, music) == 0
    assert log_mel_l1_db(music, music) == 0
    assert si_sdr(music, music) > 100


def test_half_amplitude_gives_hand_worked_values():
    # |S_hat| = |S| / 2 bin by bin: SC = 0.5, log distance = ln 2, mel difference = 20 log10 2 dB.
    g = torch.Generator().manual_seed(2)
    ref = torch.randn(1, 22050, generator=g)
    est = 0.5 * ref
    assert spectral_convergence(ref, est) == pytest.approx(0.5, abs=1e-4)
    assert log_stft_distance(ref, est) == pytest.approx(math.log(2), abs=1e-3)
    assert log_mel_l1_db(ref, est) == pytest.approx(20 * math.log10(2), abs=1e-3)


def test_measures_crop_to_the_shorter_signal(music):
    assert spectral_convergence(music, music[..., :-100]) == 0


def test_mel_snr_matches_hand_worked_values_and_worsens_with_noise(music):
    assert mel_snr(music, music) > 60
    # half the amplitude halves every mel bin: SNR = 10 log10(1 / 0.5^2) = 6.02 dB
    assert mel_snr(music, 0.5 * music) == pytest.approx(20 * math.log10(2), abs=1e-3)
    # silence leaves the whole mel as error: 10 log10(1) = 0 dB
    assert mel_snr(music, torch.zeros_like(music)) == pytest.approx(0.0, abs=1e-4)
    noise = torch.randn(music.shape, generator=torch.Generator().manual_seed(3))
    snrs = [mel_snr(music, music + level * noise) for level in (0.001, 0.01, 0.1, 1.0)]
    assert snrs == sorted(snrs, reverse=True)
