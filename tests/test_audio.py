import math

import numpy as np
import pytest
import soundfile as sf
import torch

from minidcae.audio import (denormalize_log_mel, griffin_lim, load_audio, log_mel, log_mel_to_mel,
                            mel_spectrogram, mel_to_linear, normalize_log_mel, save_audio)
from minidcae.config import ACE_STEP_MEL, DEFAULT_MEL
from minidcae.errors import AudioFileError
from minidcae.metrics import spectral_convergence


def tone(freq, seconds, sr, amp=0.5):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(wav, sr):
    spec = np.abs(np.fft.rfft(wav))
    return np.argmax(spec) * sr / len(wav)


def test_load_resamples_and_mixes_to_mono(tmp_path):
    stereo = np.stack([tone(440, 1.0, 8000), tone(440, 1.0, 8000)], axis=1)  # (samples, 2)
    sf.write(tmp_path / "a.wav", stereo, 8000)
    wav = load_audio(tmp_path / "a.wav", 22050, channels=1)
    assert wav.shape == (1, 22050) and wav.dtype == torch.float32
    assert abs(peak_hz(wav[0].numpy(), 22050) - 440) < 2


def test_load_mono_as_stereo_duplicates_the_channel(tmp_path):
    sf.write(tmp_path / "m.flac", tone(220, 0.5, 22050), 22050)
    wav = load_audio(tmp_path / "m.flac", 22050, channels=2)
    assert wav.shape == (2, 11025) and torch.equal(wav[0], wav[1])


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg"])
def test_save_then_load_round_trips(tmp_path, suffix):
    x = torch.from_numpy(tone(330, 0.5, 22050))[None]
    save_audio(tmp_path / f"x{suffix}", x, 22050)
    y = load_audio(tmp_path / f"x{suffix}", 22050)
    assert y.shape == x.shape
    tolerance = 0.05 if suffix == ".ogg" else 1e-3  # ogg is lossy
    assert (y - x).abs().mean() < tolerance
    assert [p.name for p in tmp_path.iterdir()] == [f"x{suffix}"]  # no temp file left behind


def test_bad_files_raise_errors_naming_the_file(tmp_path):
    cases = {}
    cases["missing.wav"] = None
    (tmp_path / "text.wav").write_text("this is not audio")
    cases["text.wav"] = "not a readable audio file"
    sf.write(tmp_path / "empty.wav", np.zeros((0,), np.float32), 22050)
    cases["empty.wav"] = "empty file"
    nan = tone(440, 0.1, 22050)
    nan[10] = np.nan
    sf.write(tmp_path / "nan.wav", nan, 22050, subtype="FLOAT")
    cases["nan.wav"] = "NaN"
    for name, problem in cases.items():
        with pytest.raises(AudioFileError) as err:
            load_audio(tmp_path / name)
        assert str(tmp_path / name) in str(err.value)
        assert (problem or "no such file") in str(err.value)


def test_clip_shorter_than_one_window_is_refused_by_name():
    with pytest.raises(AudioFileError, match=r"short\.wav: 220 samples \(10 ms\) is shorter than one STFT window"):
        log_mel(torch.zeros(1, 220), DEFAULT_MEL, name="short.wav")


def test_default_frames_are_samples_over_hop():
    for n in (1024, 22050, 22050 * 3 + 17):
        assert log_mel(torch.randn(1, n) * 0.1).shape == (1, 64, n // 256)
        assert DEFAULT_MEL.frames_for(n) == n // 256


def test_ace_step_preset_frame_count():
    # 10 s of 44.1 kHz stereo: padded to a multiple of 4096 samples (442,368), then one frame per 512.
    wav = torch.randn(2, 441000) * 0.1
    x = log_mel(wav, ACE_STEP_MEL)
    assert x.shape == (2, 128, 864)
    assert ACE_STEP_MEL.frames_for(441000) == 864
    assert (ACE_STEP_MEL.n_fft, ACE_STEP_MEL.hop_length, ACE_STEP_MEL.f_min, ACE_STEP_MEL.f_max) == (2048, 512, 40, 16000)


def test_normalisation_has_an_exact_inverse_and_maps_to_about_unit_range():
    logm = torch.linspace(math.log(1e-5), 3.0, 1000)
    x = normalize_log_mel(logm)
    assert torch.allclose(denormalize_log_mel(x), logm, atol=1e-5)
    assert -1.1 < x.min() and x.max() <= 1.0 + 1e-6  # log 3 (a loud bin) maps to 1
    wav = torch.from_numpy(tone(440, 1.0, 22050))[None]
    assert torch.allclose(log_mel_to_mel(log_mel(wav)), mel_spectrogram(wav).clamp(min=1e-5), rtol=1e-4)


def slaney_hz_to_mel(f):
    # Slaney's mel scale: linear below 1 kHz (3 bands per 200 Hz), logarithmic above.
    f = np.asarray(f, dtype=float)
    lin = f / (200 / 3)
    log = 15 + np.log(np.maximum(f, 1e-9) / 1000) / (np.log(6.4) / 27)
    return np.where(f < 1000, lin, log)


def slaney_mel_to_hz(m):
    m = np.asarray(m, dtype=float)
    return np.where(m < 15, m * (200 / 3), 1000 * np.exp((m - 15) * (np.log(6.4) / 27)))


def slaney_filterbank(cfg):
    """Triangles between neighbouring mel edges, each scaled to unit area (Slaney norm): (n_freqs, n_mels)."""
    freqs = np.linspace(0, cfg.sample_rate / 2, cfg.n_freqs)
    edges = slaney_mel_to_hz(np.linspace(slaney_hz_to_mel(cfg.f_min), slaney_hz_to_mel(cfg.f_max), cfg.n_mels + 2))
    fb = np.zeros((cfg.n_freqs, cfg.n_mels))
    for m in range(cfg.n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        rise = (freqs - lo) / (mid - lo)
        fall = (hi - freqs) / (hi - mid)
        fb[:, m] = np.maximum(0, np.minimum(rise, fall)) * 2 / (hi - lo)
    return torch.tensor(fb, dtype=torch.float32)


def test_mel_matches_a_hand_built_slaney_filterbank():
    wav = torch.from_numpy(tone(440, 1.0, 22050) + tone(3000, 1.0, 22050, 0.3))[None]
    spec = torch.stft(torch.nn.functional.pad(wav[None], (384, 384), mode="reflect")[0], 1024, 256,
                      window=torch.hann_window(1024), center=False, return_complex=True).abs()  # (1, F, T)
    expected = torch.einsum("fm,bft->bmt", slaney_filterbank(DEFAULT_MEL), spec)
    assert torch.allclose(mel_spectrogram(wav), expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("freq", [300.0, 1000.0, 4000.0])
def test_a_tone_lands_in_the_mel_band_its_frequency_predicts(freq):
    cfg = DEFAULT_MEL
    mel = mel_spectrogram(torch.from_numpy(tone(freq, 1.0, cfg.sample_rate))[None], cfg)[0]  # (n_mels, T)
    band = int(mel.mean(-1).argmax())
    edges = np.linspace(slaney_hz_to_mel(cfg.f_min), slaney_hz_to_mel(cfg.f_max), cfg.n_mels + 2)
    expected = int(np.argmin(np.abs(edges[1:-1] - slaney_hz_to_mel(freq))))
    assert abs(band - expected) <= 1


def test_inverse_mel_is_not_all_zero_and_maps_back_to_the_mel():
    wav = torch.from_numpy(tone(440, 1.0, 22050) + tone(1500, 1.0, 22050, 0.2))[None]
    mel = mel_spectrogram(wav)  # (1, n_mels, T)
    linear = mel_to_linear(mel)  # (1, n_freqs, T)
    assert linear.shape == (1, DEFAULT_MEL.n_freqs, mel.shape[-1])
    assert (linear >= 0).all() and linear.abs().max() > 0
    # An independent mel of `linear`: librosa's Slaney filterbank formula, computed by hand below.
    remel = torch.einsum("fm,bft->bmt", slaney_filterbank(DEFAULT_MEL), linear)
    assert (remel - mel).norm() / mel.norm() < 0.01


def test_griffin_lim_output_is_aligned_and_close_in_magnitude():
    sr = 22050
    t = np.arange(3 * sr) / sr
    env = np.zeros_like(t)
    for k in range(6):  # six decaying notes starting at known samples
        start = int(k * 0.5 * sr) + 1000
        env[start:] += np.exp(-(t[start:] - t[start]) * 30)
    wav = torch.from_numpy((0.4 * np.sin(2 * np.pi * 330 * t) * env).astype(np.float32))[None]
    out = griffin_lim(log_mel(wav), DEFAULT_MEL, n_iter=32)
    assert out.shape == (1, (3 * sr // 256) * 256)
    n = out.shape[-1] // 32 * 32
    envelope = lambda w: w[:n].abs().reshape(-1, 32).mean(-1)
    e_in, e_out = envelope(wav[0]), envelope(out[0])
    lags = range(-8, 9)
    best = max(lags, key=lambda s: float((torch.roll(e_out, s) * e_in).sum()))
    assert abs(best) <= 1  # within 32 samples (1.5 ms)
    assert spectral_convergence(wav, out) < 0.5
