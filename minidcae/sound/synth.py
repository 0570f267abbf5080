"""Labelled procedural music: six instruments, a melody, optional drums, and the truth.

Every clip comes from one integer seed. The seed draws the labels (instrument, mode, key,
tempo, drums); a second stream from the same seed plays the melody and the drum noise.
Nothing is downloaded, so notebook 00 builds a dataset in seconds, and later notebooks can
check a model against labels known exactly: every note onset, every beat, every pitch.

Inside everything is numpy float64; clips come out float32. All randomness goes through
`np.random.default_rng`, so the same seed gives the same samples. The instruments and drums themselves
(how one note or one hit sounds) are minidcae.sound.voices. A voice of voices.NEW_VOICES (bell) plays only when
named (`synth_clip(seed, seconds, instrument="bell")`, `minidcae synth --voice bell`): the labels draw from the six
INSTRUMENTS alone, so every clip the shipped models were trained on stays as it was. Taught in notebook 00 (audio
to mel); the new voice in notebook 14 (LoRA).
"""

from __future__ import annotations

import csv
import io
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minidcae.core.files import atomic_write
from minidcae.sound.audio_files import soundfile
from minidcae.sound.voices import NEW_VOICES, release, render_drum, render_note

INSTRUMENTS = ("piano", "violin", "guitar", "flute", "organ", "bass")
MODES = ("major", "minor")
KEYS = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
TEMPO_RANGE = (60, 180)  # BPM, inclusive
HELDOUT_SEED_BASE = 1_000_000  # seeds >= this are the held-out split; training never draws them

LABEL_NAMES = ("instrument", "mode", "key", "tempo", "drums")
# semitones between neighbouring scale degrees, tonic up to the octave
SCALE_STEPS = {"major": (2, 2, 1, 2, 2, 2, 1), "minor": (2, 1, 2, 2, 1, 2, 2)}
# lowest and highest MIDI note each instrument plays (inclusive); the bass sits an octave down
REGISTERS = {
    "piano": (55, 79),
    "violin": (60, 84),
    "guitar": (48, 72),
    "flute": (67, 91),
    "organ": (53, 77),
    "bass": (28, 47),
}
# the registers of voices.NEW_VOICES: sounds no shipped model heard, played only when named (notebook 14)
NEW_REGISTERS = {"bell": (60, 84)}
NOTE_BEATS = (0.5, 1.0, 1.0, 2.0)  # note lengths in beats: a crotchet twice as likely
WALK_STEPS = (-2, -1, -1, 0, 1, 1, 2)  # melody moves mostly by step, sometimes skips or repeats
REST_PROBABILITY = 0.1
PEAK = 0.95


def scale_midi(key: str, mode: str, low: int, high: int) -> np.ndarray:
    """MIDI notes of the `key` `mode` scale from `low` to `high` (inclusive), ascending."""
    _check_choice("key", key, KEYS)
    _check_choice("mode", mode, MODES)
    # pitch classes: the tonic, then the running sum of the scale's steps
    pitch_classes = (KEYS.index(key) + np.cumsum((0,) + SCALE_STEPS[mode][:-1])) % 12
    notes = np.arange(low, high + 1)
    return notes[np.isin(notes % 12, pitch_classes)]


@dataclass(frozen=True)
class ClipLabels:
    """What is true about one synthetic clip: the labels behind its prompt, and its timing."""

    seed: int
    instrument: str
    mode: str
    key: str
    tempo: float  # BPM
    drums: bool
    onsets: tuple[float, ...]  # seconds: melody notes and drum hits, sorted, 1 ms apart at least
    beats: tuple[float, ...]  # seconds: k * 60 / tempo

    def prompt(self) -> str:
        mood = "happy" if self.mode == "major" else "sad"
        text = f"{mood} {self.instrument}, {self.tempo:g} bpm"
        return f"{text}, drums" if self.drums else text

    def as_row(self) -> dict:
        return {
            "seed": self.seed,
            "instrument": self.instrument,
            "mode": self.mode,
            "key": self.key,
            "tempo": self.tempo,
            "drums": self.drums,
            "prompt": self.prompt(),
            "onsets": _seconds_text(self.onsets),
            "beats": _seconds_text(self.beats),
        }


def draw_labels(seed: int, **overrides) -> dict:
    """Instrument, mode, key, tempo and drums drawn from `seed`; `overrides` fix any of them."""
    _check_seed(seed)
    unknown = sorted(set(overrides) - set(LABEL_NAMES))
    if unknown:
        raise ValueError(f"unknown label(s) {unknown}; choose from: {', '.join(LABEL_NAMES)}")
    rng = np.random.default_rng(seed)
    # all five are drawn, in this order, every time: fixing one never changes the others
    labels = {
        "instrument": INSTRUMENTS[rng.integers(len(INSTRUMENTS))],
        "mode": MODES[rng.integers(len(MODES))],
        "key": KEYS[rng.integers(len(KEYS))],
        "tempo": float(rng.integers(TEMPO_RANGE[0], TEMPO_RANGE[1] + 1)),
        "drums": bool(rng.random() < 0.5),
    }
    labels.update(overrides)
    _check_labels(labels)
    return {**labels, "tempo": float(labels["tempo"]), "drums": bool(labels["drums"])}


def _melody(labels: dict, seconds: float, rng: np.random.Generator) -> list:
    """(start s, length s, MIDI) per note: a random walk on scale degrees, on a half-beat grid."""
    scale = scale_midi(labels["key"], labels["mode"], *register(labels["instrument"]))
    beat = 60.0 / labels["tempo"]
    # begin on the tonic nearest the middle of the instrument's register
    tonics = np.flatnonzero(scale % 12 == KEYS.index(labels["key"]))
    degree = int(tonics[np.argmin(np.abs(tonics - len(scale) // 2))])
    notes, position = [], 0.0  # position in beats; the first note starts at t = 0
    while position * beat < seconds:
        length = float(rng.choice(NOTE_BEATS))
        if not notes or rng.random() >= REST_PROBABILITY:
            notes.append((position * beat, length * beat, int(scale[degree])))
        degree = int(np.clip(degree + rng.choice(WALK_STEPS), 0, len(scale) - 1))
        position += length
    return notes


def register(instrument: str) -> tuple[int, int]:
    """The lowest and highest MIDI note an instrument plays: REGISTERS, or NEW_REGISTERS for a new voice."""
    return REGISTERS.get(instrument) or NEW_REGISTERS[instrument]


def _place(mix: np.ndarray, sound: np.ndarray, start: float, sample_rate: int) -> None:
    """Add `sound` into `mix` from `start` seconds; cut at the clip end with its own release."""
    begin = int(round(start * sample_rate))
    room = mix.size - begin
    if room <= 0:
        return
    if sound.size > room:
        sound = release(sound[:room].copy(), sample_rate)
    mix[begin : begin + sound.size] += sound


def first_seed(seed: int, n: int, heldout: bool = False) -> int:
    """The first of n consecutive clip seeds: `seed` for training clips, HELDOUT_SEED_BASE + seed for
    held-out ones. The guard every recipe goes through: training seeds never reach the held-out range."""
    base = HELDOUT_SEED_BASE + seed if heldout else seed
    if not heldout and base + n > HELDOUT_SEED_BASE:
        raise ValueError(
            f"training seeds {base}..{base + n - 1} reach the held-out range "
            f"(from {HELDOUT_SEED_BASE}); use smaller seeds"
        )
    return base


def melody_of(seed: int, seconds: float, **overrides) -> list[tuple[float, float, int]]:
    """The notes synth_clip(seed, seconds, **overrides) plays: (start s, length s, MIDI) each, in order.
    Notes may run past `seconds`; the clip cuts them there."""
    labels = draw_labels(seed, **overrides)
    # the melody is the first thing drawn from the audio stream, so this repeats synth_clip's draws
    return _melody(labels, seconds, np.random.default_rng([seed, 1]))


def synth_clip(
    seed: int, seconds: float, sample_rate: int = 22050, notes=None, **overrides
) -> tuple[np.ndarray, ClipLabels]:
    """A mono float32 clip of round(seconds * sample_rate) samples, peak 0.95, and its labels.

    notes: play these (start s, length s, MIDI) instead of the seed's own melody (a melody read
    from a MIDI file, say); the labels, drums and timbre still come from the seed."""
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    labels = draw_labels(seed, **overrides)
    # a second stream for the audio, so rendering never shifts the labels
    rng = np.random.default_rng([seed, 1])
    mix = np.zeros(int(round(seconds * sample_rate)))
    onsets = []
    own = _melody(labels, seconds, rng)  # drawn even when `notes` replace it, so the drums stay the same
    for start, length, midi in own if notes is None else [n for n in notes if n[0] < seconds]:
        _place(mix, render_note(labels["instrument"], midi, length, sample_rate, rng), start, sample_rate)
        onsets.append(start)
    # beat k falls at k * 60 / tempo, for every k with a time inside the clip
    beats = [k * 60.0 / labels["tempo"] for k in range(int(seconds * labels["tempo"] / 60) + 2)]
    beats = [b for b in beats if b < seconds]
    for k, time in enumerate(beats if labels["drums"] else []):
        # kick on beats 1 and 3 of each 4-beat bar, snare on 2 and 4, hi-hat on every beat
        for drum in ("kick" if k % 4 in (0, 2) else "snare", "hihat"):
            _place(mix, render_drum(drum, sample_rate, rng), time, sample_rate)
            onsets.append(time)
    # normalise: the loudest sample becomes PEAK
    mix *= PEAK / max(np.abs(mix).max(), 1e-12)
    return mix.astype(np.float32), ClipLabels(seed=int(seed), **labels, onsets=_merge_close(onsets), beats=tuple(beats))


def write_dataset(out_dir, n: int, seconds: float, seed: int, sample_rate: int = 22050, **overrides) -> list[Path]:
    """Write clip_00000.wav ... (16-bit, seeds seed, seed + 1, ...) and metadata.csv; return
    the clip paths. Files are written under a temporary name, then renamed. overrides fix labels of every clip
    (instrument="bell": a voice of voices.NEW_VOICES, which the labels never draw)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    _check_seed(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths, rows, sf = [], [], soundfile()
    for i in range(n):
        audio, labels = synth_clip(seed + i, seconds, sample_rate, **overrides)
        path = out_dir / f"clip_{i:05d}.wav"
        atomic_write(path, lambda tmp, audio=audio: sf.write(tmp, audio, sample_rate, subtype="PCM_16", format="WAV"))
        paths.append(path)
        rows.append({"file": path.name, **labels.as_row()})
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(out_dir / "metadata.csv", lambda tmp: Path(tmp).write_bytes(table.getvalue().encode("utf-8")))
    return paths


def _merge_close(times, tolerance: float = 1e-3) -> tuple[float, ...]:
    # sort, then drop any time within `tolerance` of the last one kept
    merged = []
    for time in sorted(times):
        if not merged or time - merged[-1] > tolerance:
            merged.append(float(time))
    return tuple(merged)


def _seconds_text(times) -> str:
    return " ".join(f"{time:.4f}" for time in times)


def _check_choice(name: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; choose one of: {', '.join(allowed)}")


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def _check_labels(labels: dict) -> None:
    _check_choice("instrument", labels["instrument"], INSTRUMENTS + tuple(NEW_VOICES))
    _check_choice("mode", labels["mode"], MODES)
    _check_choice("key", labels["key"], KEYS)
    low, high = TEMPO_RANGE
    tempo = labels["tempo"]
    if isinstance(tempo, bool) or not isinstance(tempo, numbers.Real) or not low <= tempo <= high:
        raise ValueError(f"tempo {tempo!r} BPM is outside {low}..{high}")
    if labels["drums"] not in (True, False):
        raise ValueError(f"drums must be True or False, got {labels['drums']!r}")
