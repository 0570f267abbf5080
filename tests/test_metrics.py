import math

import numpy as np
import pytest
import torch

from minidcae.metrics import (log_mel_l1_db, log_stft_distance, multi_resolution_stft_distance,
                              reconstruction_report, si_sdr, spectral_convergence)


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


def test_every_measure_worsens_as_noise_grows(music):
    g = torch.Generator().manual_seed(1)
    noise = torch.randn(music.shape, generator=g)
    reports = [reconstruction_report(music, music + level * noise) for level in (0.001, 0.01, 0.1)]
    for key in ("log_mel_l1_db", "mr_stft", "spectral_convergence"):
        values = [r[key] for r in reports]
        assert values == sorted(values) and values[0] < values[-1], key
    sdr = [r["si_sdr_db"] for r in reports]
    assert sdr == sorted(sdr, reverse=True)


def test_si_sdr_matches_a_hand_worked_case():
    # ref and err are orthogonal sines (whole periods), so alpha = 1 and SI-SDR = 10 log10(1 / 0.1^2) = 20 dB.
    t = torch.arange(8000) / 8000
    ref = torch.sin(2 * math.pi * 100 * t)
    err = 0.1 * torch.sin(2 * math.pi * 300 * t)
    assert si_sdr(ref, ref + err) == pytest.approx(20.0, abs=1e-3)
    assert si_sdr(ref, 3 * ref + 3 * err) == pytest.approx(20.0, abs=1e-3)  # scale-invariant


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
