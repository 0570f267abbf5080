import math

import numpy as np
import pytest
import soundfile as sf
import torch

from minidcae.core.config import ACE_STEP_MEL, DEFAULT_MEL
from minidcae.core.errors import AudioFileError
from minidcae.measure.spectral import spectral_convergence
from minidcae.sound.audio import (
    denormalize_log_mel,
    griffin_lim,
    log_mel,
    log_mel_to_mel,
    mel_spectrogram,
    mel_to_linear,
    normalize_log_mel,
)
from minidcae.sound.audio_files import load_audio, save_audio


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
    assert (ACE_STEP_MEL.n_fft, ACE_STEP_MEL.hop_length, ACE_STEP_MEL.f_min, ACE_STEP_MEL.f_max) == (
        2048,
        512,
        40,
        16000,
    )


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
    spec = torch.stft(
        torch.nn.functional.pad(wav[None], (384, 384), mode="reflect")[0],
        1024,
        256,
        window=torch.hann_window(1024),
        center=False,
        return_complex=True,
    ).abs()  # (1, F, T)
    expected = torch.einsum("fm,bft->bmt", slaney_filterbank(DEFAULT_MEL), spec)
    assert torch.allclose(mel_spectrogram(wav), expected, rtol=1e-3, atol=1e-4)


def ace_step_log_mel(wav):
    """ACE-Step v1's front end written out (music_dcae: LogMelSpectrogram, then MusicDCAE.encode's
    normalisation): zero-pad to a multiple of 4096, reflect-pad 768 each side, Hann 2048, hop 512,
    |X| = sqrt(re^2 + im^2 + 1e-6), Slaney mel (128 bands, 40 Hz to 16 kHz), log(clamp(., 1e-5)),
    (x - min) / (max - min) with min -11, max 3, then Normalize(0.5, 0.5)."""
    wav = torch.nn.functional.pad(wav, (0, -wav.shape[-1] % 4096))
    y = torch.nn.functional.pad(wav[:, None], (768, 768), mode="reflect")[:, 0]  # (C, L + 1536)
    spec = torch.view_as_real(
        torch.stft(
            y,
            2048,
            hop_length=512,
            win_length=2048,
            window=torch.hann_window(2048),
            center=False,
            normalized=False,
            onesided=True,
            return_complex=True,
        )
    )
    linear = torch.sqrt(spec.pow(2).sum(-1) + 1e-6)  # (C, 1025, T)
    mel = torch.einsum("fm,cft->cmt", slaney_filterbank(ACE_STEP_MEL), linear)  # (C, 128, T)
    x = (torch.log(torch.clamp(mel, min=1e-5)) - (-11.0)) / (3.0 - (-11.0))
    return (x - 0.5) / 0.5


def test_ace_step_preset_matches_ace_steps_front_end_silence_and_padding_included():
    sr = 44100
    music = torch.from_numpy(np.stack([tone(440, 1.0, sr), tone(2500, 1.0, sr, 0.2)]))  # (2, sr)
    wav = torch.cat([music, torch.zeros(2, sr + 1000)], dim=1)  # a second of silence, then zero padding
    ours, theirs = log_mel(wav, ACE_STEP_MEL), ace_step_log_mel(wav)
    assert ours.shape == theirs.shape == (2, 128, ACE_STEP_MEL.frames_for(wav.shape[-1]))
    assert torch.allclose(ours, theirs, atol=1e-4)
    silent = ours[..., -40:]  # frames well inside the silence and the padding
    assert silent.mean().item() == pytest.approx(-0.85, abs=0.01)
    assert silent.std().item() < 0.01
    # our default has no magnitude floor: silence sits at the log floor, (log 1e-5 + 11) / 14 * 2 - 1
    quiet = log_mel(torch.zeros(1, 22050 * 2))
    assert torch.allclose(quiet, torch.tensor((math.log(1e-5) + 11) / 14 * 2 - 1), atol=1e-6)
    assert quiet.mean().item() == pytest.approx(-1.07, abs=0.01)


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


def test_griffin_lim_steps_repeat_torchaudios_griffin_lim_exactly():
    import torch.nn.functional as F
    import torchaudio

    from minidcae.sound.audio import griffin_lim_magnitude, stft

    cfg = DEFAULT_MEL
    wav = torch.from_numpy(tone(440, 0.5, cfg.sample_rate) + tone(1500, 0.5, cfg.sample_rate, 0.2))[None]
    magnitude = stft(wav, cfg).abs()  # (1, n_freqs, frames)
    ours = griffin_lim_magnitude(magnitude, cfg, n_iter=8)
    frames = magnitude.shape[-1]
    theirs = torchaudio.functional.griffinlim(
        magnitude,
        torch.hann_window(cfg.win_length),
        cfg.n_fft,
        cfg.hop_length,
        cfg.win_length,
        power=1.0,
        n_iter=8,
        momentum=0.99,
        length=frames * cfg.hop_length - cfg.hop_length // 2,
        rand_init=False,
    )
    assert torch.allclose(ours, F.pad(theirs, (cfg.hop_length // 2, 0)), atol=1e-6)


def test_plain_griffin_lim_step_never_moves_away_from_a_consistent_spectrogram():
    # Griffin & Lim (1984): without momentum, || |S| e^{i phi_k} - STFT(iSTFT(|S| e^{i phi_k})) || never grows.
    from minidcae.sound.audio import griffin_lim_step, stft

    cfg = DEFAULT_MEL
    wav = torch.from_numpy(tone(330, 0.5, cfg.sample_rate) + tone(2000, 0.5, cfg.sample_rate, 0.3))[None]
    magnitude = stft(wav, cfg).abs()  # (1, n_freqs, frames)
    phase = torch.ones_like(magnitude, dtype=torch.complex64)
    distances = []
    for _ in range(6):
        new_phase, rebuilt = griffin_lim_step(phase, magnitude, cfg)
        distances.append((magnitude * phase - rebuilt).abs().pow(2).sum().sqrt().item())
        alive = rebuilt.abs() > 1e-6
        assert torch.allclose(new_phase.abs()[alive], torch.ones(()), atol=1e-5)  # a phase: modulus 1
        phase = new_phase
    assert all(b <= a * (1 + 1e-4) for a, b in zip(distances, distances[1:]))
    assert distances[-1] < 0.8 * distances[0]
