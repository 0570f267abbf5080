import math

import pytest
import torch

from minidcae.sound import synth
from minidcae.core.errors import MinidcaeError
from minidcae.measure.pitch import (
    KS_MAJOR,
    KS_MINOR,
    chroma_cosine_similarity,
    chromagram,
    estimate_key,
    note_pitch_accuracy,
    relative_key,
    track_pitch,
)

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


def test_track_pitch_of_a_piano_a4_is_midi_69():
    times, midi, confidence = track_pitch(torch.from_numpy(synth.render_note("piano", 69, 0.5, SR)), SR)
    assert times.shape == midi.shape == confidence.shape
    assert times[1] - times[0] == pytest.approx(0.01)
    middle = (times > 0.05) & (times < 0.45)
    assert midi[middle].median() == pytest.approx(69.0, abs=0.2)
    assert confidence[middle].min() > 0.5


def test_note_pitch_accuracy_is_high_for_the_played_notes_and_low_two_semitones_off():
    notes = synth.melody_of(7, 2.0, instrument="piano", drums=False)
    clip = _clip()
    right = note_pitch_accuracy(notes, clip, SR)
    wrong = note_pitch_accuracy([(s, length, m + 2) for s, length, m in notes], clip, SR)
    assert right["notes"] == wrong["notes"] >= 3
    assert right["accuracy"] >= 0.9 and right["voiced"] == 1.0
    assert wrong["accuracy"] == 0.0 and wrong["pitch_class_accuracy"] == 0.0
    # an octave off is wrong, but right once octaves are forgiven
    octave = note_pitch_accuracy([(s, length, m + 12) for s, length, m in notes], clip, SR)
    assert octave["accuracy"] == 0.0 and octave["pitch_class_accuracy"] == right["pitch_class_accuracy"]


def test_note_pitch_accuracy_counts_silent_notes_wrong_and_skips_short_ones():
    silence = torch.zeros(SR)
    result = note_pitch_accuracy([(0.1, 0.5, 60), (0.7, 0.05, 62)], silence, SR)
    assert result == {"accuracy": 0.0, "pitch_class_accuracy": 0.0, "notes": 1, "voiced": 0.0}


def test_bad_audio_raises_an_actionable_error():
    with pytest.raises(MinidcaeError, match="shape"):
        chromagram(torch.zeros(2, 2, 10), SR)
    with pytest.raises(MinidcaeError, match="NaN"):
        track_pitch(torch.full((4000,), math.nan), SR)
    with pytest.raises(MinidcaeError, match="unknown key"):
        estimate_key(torch.ones(12, 1), key="H")
