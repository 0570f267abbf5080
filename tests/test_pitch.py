"""minidcae.measure.pitch: pesto tracks a known note, and note accuracy on the played, shifted and silent notes."""

import math

import pytest
import torch

from minidcae.core.errors import MinidcaeError
from minidcae.measure.chroma import chromagram, estimate_key
from minidcae.measure.pitch import note_pitch_accuracy, track_pitch
from minidcae.sound import synth, voices

SR = 22050


def _clip(notes=None, seconds=2.0, seed=7):
    wav, _ = synth.synth_clip(seed, seconds, SR, notes=notes, instrument="piano", drums=False)
    return torch.from_numpy(wav)


def test_track_pitch_of_a_piano_a4_is_midi_69():
    times, midi, confidence = track_pitch(torch.from_numpy(voices.render_note("piano", 69, 0.5, SR)), SR)
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
