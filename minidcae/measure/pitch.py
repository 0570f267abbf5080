"""Does the audio play the asked notes? A pitch tracker we did not train, and the notes it hears.

    track_pitch                frame-wise pitch in MIDI and voicing confidence from pesto (a tracker we did not train)
    note_pitch_accuracy        share of notes whose tracked median pitch is within a tolerance of the asked one
    validate_pitch_tracker     track_pitch and note_pitch_accuracy on synthesized notes and melodies of known pitch

The pitch tracker is PESTO (Riou et al. 2023, "PESTO: Pitch Estimation with Self-supervised
Transposition-equivariant Objective", arXiv 2309.02265), package `pesto-pitch`, licence LGPL-3.0: we call
it as a library and ship none of its code; its wheel holds its weights, so nothing is downloaded. Its
constant-Q input starts at 27.5 Hz (A0, MIDI 21).

Pitch classes and keys are minidcae.measure.chroma. Used by melody conditioning (notebook 10,
minidcae.recipes.melody) to measure whether generated audio follows the asked melody.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from minidcae.measure.chroma import as_mono
from minidcae.sound import synth, voices
from minidcae.sound.data import synth_clips

MIN_NOTE_SECONDS = 0.08  # shorter notes are not scored: too few frames once the edges are skipped
NOTE_EDGE_SECONDS = 0.03  # skip the attack and the release of each note
MIN_CONFIDENCE = 0.5  # pesto's voicing confidence above which a frame counts as voiced
TOLERANCE = 0.5  # semitones: a tracked note within this of the asked one is right
PESTO_MODEL = "mir-1k_g7"  # the checkpoint pesto.predict uses by default


@functools.lru_cache(maxsize=4)
def _pesto_model(step_ms: float, sample_rate: int):
    import pesto

    return pesto.load_model(PESTO_MODEL, step_ms, sampling_rate=sample_rate)


def track_pitch(wav, sample_rate: int, step_ms: float = 10.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(samples,) or (C, samples) -> (times s (F,), pitch in fractional MIDI (F,), voicing confidence 0..1 (F,)).

    PESTO (pesto-pitch, LGPL-3.0), one frame every step_ms, frame f centred at f * step_ms. Pitch is read
    at every frame, voiced or not: filter by confidence. The model is loaded once per (step, rate)."""
    x = as_mono(wav)  # (L,)
    model = _pesto_model(float(step_ms), int(sample_rate)).to(x.device)
    with torch.inference_mode():
        midi, confidence, _, _ = model(x, sr=sample_rate, convert_to_freq=False, return_activations=True)  # (F,) x2
    times = torch.arange(midi.shape[-1], dtype=torch.float32) * (model.hop_size / 1000.0)  # (F,)
    return times, midi.float().cpu(), confidence.float().cpu()


def _note_errors(notes, times, midi, confidence, duration: float, min_confidence: float) -> list[float]:
    """Tracked median minus asked MIDI for each note scored (NaN where no frame was confident)."""
    errors = []
    for start, length, asked in notes:
        end = min(start + length, duration)
        if end - start <= MIN_NOTE_SECONDS:
            continue
        inside = (times >= start + NOTE_EDGE_SECONDS) & (times <= end - NOTE_EDGE_SECONDS)  # (F,)
        voiced = midi[inside & (confidence >= min_confidence)]  # (F',)
        errors.append(float(voiced.median()) - asked if voiced.numel() else math.nan)
    return errors


def _accuracy_of(errors: list[float], tolerance: float) -> dict:
    e = np.asarray(errors, dtype=np.float64)  # (N,)
    scored = max(e.size, 1)
    voiced = np.isfinite(e)
    # octave ignored: the distance from e to the nearest multiple of 12
    class_error = np.abs(e - 12 * np.round(e / 12))
    return {
        "accuracy": float((voiced & (np.abs(np.nan_to_num(e, nan=99.0)) <= tolerance)).sum() / scored),
        "pitch_class_accuracy": float((voiced & (np.nan_to_num(class_error, nan=99.0) <= tolerance)).sum() / scored),
        "notes": int(e.size),
        "voiced": float(voiced.sum() / scored),
    }


def note_pitch_accuracy(
    notes, wav, sample_rate: int, min_confidence: float = MIN_CONFIDENCE, tolerance: float = TOLERANCE
) -> dict:
    """Did `wav` play `notes`, [(start s, length s, MIDI)]? Per note longer than 80 ms: the median tracked
    MIDI over its middle (30 ms skipped at each end) among frames with confidence >= min_confidence;
    correct when within `tolerance` semitones. A note with no confident frame counts as wrong.

    Returns accuracy, pitch_class_accuracy (octave errors forgiven), notes (how many were scored; notes cut
    by the clip's end are scored on what is left) and voiced (share of scored notes with a confident frame).
    With no note to score, both accuracies are 0 and notes is 0."""
    x = as_mono(wav)  # (L,)
    times, midi, confidence = track_pitch(x, sample_rate)  # (F,) x3
    errors = _note_errors(notes, times, midi, confidence, x.shape[-1] / sample_rate, min_confidence)
    return _accuracy_of(errors, tolerance)


def validate_pitch_tracker(
    sample_rate: int = 22050, seconds: float = 0.5, n_melodies: int = 30, melody_seconds: float = 3.0, seed: int = 0
) -> dict:
    """Check the tracker where the truth is known, before trusting it on generated audio.

    notes: every instrument, every 3rd MIDI note of its register (synth.REGISTERS), one note of `seconds`
    each: {instrument: {"accuracy", "n", "missed": [MIDI notes scored wrong], "wrong_pitch": [the missed
    notes still wrong when every frame counts, confident or not]}}: a note in "missed" but not in
    "wrong_pitch" was tracked right and judged unvoiced.
    melodies: note_pitch_accuracy pooled over the notes of n_melodies held-out clips of melody_seconds,
    rendered without drums, per instrument; "accuracy_any_confidence" scores every frame, confident or not."""
    notes, melodies = {}, {}
    for instrument in synth.INSTRUMENTS:
        low, high = synth.REGISTERS[instrument]
        asked, missed, wrong_pitch = list(range(low, high + 1, 3)), [], []
        for midi in asked:
            wav = torch.from_numpy(voices.render_note(instrument, midi, seconds, sample_rate))  # (L,)
            times, tracked, confidence = track_pitch(wav, sample_rate)  # (F,) x3
            for threshold, misses in ((MIN_CONFIDENCE, missed), (0.0, wrong_pitch)):
                errors = _note_errors([(0.0, seconds, midi)], times, tracked, confidence, seconds, threshold)
                if _accuracy_of(errors, TOLERANCE)["accuracy"] < 1:
                    misses.append(midi)
        notes[instrument] = {
            "accuracy": 1 - len(missed) / len(asked),
            "n": len(asked),
            "missed": missed,
            "wrong_pitch": wrong_pitch,
        }
        confident, every = [], []
        fixed = {"instrument": instrument, "drums": False}
        for clip_seed, wav, _ in synth_clips(n_melodies, melody_seconds, sample_rate, seed, heldout=True, **fixed):
            times, tracked, confidence = track_pitch(wav, sample_rate)  # (F,) x3
            played = synth.melody_of(clip_seed, melody_seconds, **fixed)
            confident += _note_errors(played, times, tracked, confidence, melody_seconds, MIN_CONFIDENCE)
            every += _note_errors(played, times, tracked, confidence, melody_seconds, 0.0)
        melodies[instrument] = {
            **_accuracy_of(confident, TOLERANCE),
            "accuracy_any_confidence": _accuracy_of(every, TOLERANCE)["accuracy"],
        }
    return {"notes": notes, "melodies": melodies}
