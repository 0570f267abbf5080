"""minidcae.measure.chroma: the chromagram against a sine and a frame-by-frame loop, and key finding by hand."""

import math

import pytest
import torch

from minidcae.measure.chroma import (
    KS_MAJOR,
    KS_MINOR,
    chroma_cosine_similarity,
    chromagram,
    estimate_key,
    relative_key,
)
from minidcae.sound import synth

SR = 22050


def _clip(notes=None, seconds=2.0, seed=7):
    wav, _ = synth.synth_clip(seed, seconds, SR, notes=notes, instrument="piano", drums=False)
    return torch.from_numpy(wav)


def _scale_chroma(key, mode, tonic_weight=1.0):
    # one frame: weight 1 on each scale note's pitch class, tonic_weight on the tonic
    chroma = torch.zeros(12, 1)
    for midi in synth.scale_midi(key, mode, 60, 71):
        chroma[midi % 12] = 1.0
    chroma[synth.KEYS.index(key)] *= tonic_weight
    return chroma


def test_chromagram_of_a_440_hz_sine_peaks_at_a():
    t = torch.arange(SR) / SR
    chroma = chromagram(torch.sin(2 * math.pi * 440 * t), SR)
    assert chroma.shape == (12, SR // 1024 + 1)
    # every frame's largest class is A (9) and equals 1 (inf-norm); C (0) is far below
    assert (chroma.argmax(dim=0) == synth.KEYS.index("A")).all()
    assert torch.allclose(chroma.amax(dim=0), torch.ones(chroma.shape[1]))
    assert chroma[0].max() < 0.05


def test_chromagram_of_silence_is_zero_and_stereo_is_averaged():
    assert chromagram(torch.zeros(5000), SR).abs().max() == 0
    t = torch.arange(SR) / SR
    a, e = torch.sin(2 * math.pi * 440 * t), torch.sin(2 * math.pi * 659.26 * t)
    # mean of the channels is the mono signal the chroma sees
    assert torch.allclose(chromagram(torch.stack([a, e]), SR), chromagram((a + e) / 2, SR), atol=1e-5)


def test_chroma_cosine_of_a_clip_with_itself_is_one_and_with_its_tritone_transposition_much_lower():
    notes = synth.melody_of(7, 2.0, instrument="piano", drums=False)
    clip = _clip()
    tritone = _clip([(start, length, midi + 6) for start, length, midi in notes])
    assert chroma_cosine_similarity(clip, clip, SR) == pytest.approx(1.0, abs=1e-5)
    # cropping to the shorter: a longer copy of the same clip still scores 1
    assert chroma_cosine_similarity(clip, torch.cat([clip, clip]), SR) == pytest.approx(1.0, abs=1e-5)
    assert chroma_cosine_similarity(clip, tritone, SR) < 0.5


def test_chroma_cosine_matches_a_frame_by_frame_loop():
    g = torch.Generator().manual_seed(0)
    ref, gen = torch.randn(9000, generator=g), _clip()[:9000]
    a, b = chromagram(ref, SR), chromagram(gen, SR)
    frames = math.ceil(9000 / 1024)
    expected = sum(float(a[:, t] @ b[:, t] / (a[:, t].norm() * b[:, t].norm())) for t in range(frames)) / frames
    assert chroma_cosine_similarity(ref, gen, SR) == pytest.approx(expected, rel=1e-5)


def test_estimate_key_finds_c_major_and_a_minor_from_their_scales():
    # equal weights: C major and A natural minor hold the same notes; the judge answers the major one
    assert estimate_key(_scale_chroma("C", "major"))[:2] == ("C", "major")
    assert estimate_key(_scale_chroma("A", "minor"))[:2] == ("C", "major")
    # with the tonic weighted twice, as a melody starting and ending on it, each scale gives its own key
    assert estimate_key(_scale_chroma("C", "major", 2.0))[:2] == ("C", "major")
    assert estimate_key(_scale_chroma("A", "minor", 2.0))[:2] == ("A", "minor")
    # told the tonic, the judge decides the mode alone
    assert estimate_key(_scale_chroma("A", "minor"), key="A")[:2] == ("A", "minor")


def test_estimate_key_correlation_is_pearson_with_the_rotated_profile():
    # the profile itself, rotated to E minor, correlates perfectly with E minor
    profile = torch.tensor(KS_MINOR).roll(synth.KEYS.index("E"))[:, None]
    key, mode, r = estimate_key(profile.repeat(1, 3))
    assert (key, mode) == ("E", "minor") and r == pytest.approx(1.0)
    # the C major scale's r is the Pearson r of its 0/1 vector with the C major profile, by torch.corrcoef
    scale = _scale_chroma("C", "major")[:, 0]
    expected = torch.corrcoef(torch.stack([scale, torch.tensor(KS_MAJOR)]))[0, 1]
    assert estimate_key(scale[:, None])[2] == pytest.approx(float(expected), rel=1e-5)
    # a profile rotated a fifth up is G major
    assert estimate_key(torch.tensor(KS_MAJOR).roll(7)[:, None])[:2] == ("G", "major")


def test_relative_key_is_a_minor_third_apart_both_ways():
    assert relative_key("C", "major") == ("A", "minor")
    assert relative_key("A", "minor") == ("C", "major")
    assert relative_key("F#", "minor") == ("A", "major")
