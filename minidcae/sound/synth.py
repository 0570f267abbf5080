"""Labelled procedural music: six instruments, a melody, optional drums, and the truth.

Every clip comes from one integer seed. The seed draws the labels (instrument, mode, key,
tempo, drums); a second stream from the same seed plays the melody and the drum noise.
Nothing is downloaded, so notebook 00 builds a dataset in seconds, and later notebooks can
check a model against labels known exactly: every note onset, every beat, every pitch.

Inside everything is numpy float64; clips come out float32. All randomness goes through
`np.random.default_rng`, so the same seed gives the same samples.
"""

from __future__ import annotations

import csv
import io
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minidcae.core.files import atomic_write
from minidcae.sound.audio import soundfile

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
NOTE_BEATS = (0.5, 1.0, 1.0, 2.0)  # note lengths in beats: a crotchet twice as likely
WALK_STEPS = (-2, -1, -1, 0, 1, 1, 2)  # melody moves mostly by step, sometimes skips or repeats
REST_PROBABILITY = 0.1
RELEASE_SECONDS = 0.01  # every sound ends with a 10 ms fade: a jump to silence would click
PEAK = 0.95
DRAWBAR_RATIOS = (1, 2, 3, 4, 6, 8)
DRAWBAR_WEIGHTS = (1.0, 0.8, 0.5, 0.4, 0.25, 0.2)


def midi_to_hz(midi):
    # equal temperament: f = 440 * 2^((m - 69) / 12), A4 = MIDI 69 = 440 Hz
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69) / 12)


def scale_midi(key: str, mode: str, low: int, high: int) -> np.ndarray:
    """MIDI notes of the `key` `mode` scale from `low` to `high` (inclusive), ascending."""
    _check_choice("key", key, KEYS)
    _check_choice("mode", mode, MODES)
    # pitch classes: the tonic, then the running sum of the scale's steps
    pitch_classes = (KEYS.index(key) + np.cumsum((0,) + SCALE_STEPS[mode][:-1])) % 12
    notes = np.arange(low, high + 1)
    return notes[np.isin(notes % 12, pitch_classes)]


def _phase(freq: np.ndarray, sample_rate: int) -> np.ndarray:
    # phase is the running integral of frequency: phi[n] = 2 pi sum_{m<n} f[m] / sr
    return 2 * np.pi * (np.cumsum(freq) - freq[0]) / sample_rate


def _vibrato(f0: float, t: np.ndarray, cents: float, rate_hz: float, delay: float):
    # f(t) = f0 * 2^(c(t) sin(2 pi rate t) / 1200); depth c(t) fades in after `delay` seconds
    depth = cents * np.clip((t - delay) / 0.2, 0.0, 1.0)
    return f0 * 2.0 ** (depth * np.sin(2 * np.pi * rate_hz * t) / 1200)


def _partials(phase, ratios, amps, sample_rate, top_hz):
    """sum_k a_k sin(r_k phase); a_k is constant (K,) or a per-sample envelope (K, N)."""
    ratios, amps = np.asarray(ratios, dtype=np.float64), np.asarray(amps, dtype=np.float64)
    # a partial at or above Nyquist (sr / 2) would alias back as a wrong, lower tone
    keep = ratios * top_hz < sample_rate / 2
    amps = amps[keep].reshape(int(keep.sum()), -1)  # (K, 1) or (K, N)
    return (amps * np.sin(np.outer(ratios[keep], phase))).sum(axis=0)  # (N,)


def _release(x: np.ndarray, sample_rate: int) -> np.ndarray:
    # linear fade to zero over the last RELEASE_SECONDS
    m = min(x.size, int(RELEASE_SECONDS * sample_rate))
    x[x.size - m :] *= np.linspace(1.0, 0.0, m)
    return x


# Each voice maps (f0 in Hz, time axis t in s, sample rate, rng) to one float64 note.
def _piano(f0, t, sample_rate, rng):
    # A stiff string is slightly inharmonic: partial k sits at k f0 sqrt(1 + B k^2).
    k = np.arange(1, 11)
    ratios = k * np.sqrt(1 + 4e-4 * k**2)
    # The hammer excites all partials at once; higher ones lose energy faster (the tone darkens).
    amps = (1.0 / k)[:, None] * np.exp(-np.outer(0.6 + 0.5 * k, t))  # (K, N)
    attack = 1 - np.exp(-t / 0.002)
    return attack * _partials(2 * np.pi * f0 * t, ratios, amps, sample_rate, f0)


def _violin(f0, t, sample_rate, rng):
    # A bowed string moves in stick-slip (Helmholtz) motion: nearly a sawtooth, partial k at 1/k.
    # The player adds vibrato, +-8 cents at 5.5 Hz, once the note has settled.
    freq = _vibrato(f0, t, cents=8, rate_hz=5.5, delay=0.15)
    k = np.arange(1, 16)
    tone = _partials(_phase(freq, sample_rate), k, 1.0 / k, sample_rate, freq.max())
    # The bow takes ~120 ms to set the string going, then sustains the note.
    return np.clip(t / 0.12, 0.0, 1.0) * tone


def _guitar(f0, t, sample_rate, rng):
    # Karplus-Strong: a noise burst circulates in a delay line of P samples; each trip through
    # the two-point average y[n] = d * (y[n-P] + y[n-P-1]) / 2 dulls and shortens it, like a string.
    # The average delays by half a sample, so the loop is P + 1/2 long: f0 = sr / (P + 1/2).
    period = max(2, int(round(sample_rate / f0 - 0.5)))
    y = np.zeros(t.size + 1)  # y[0] is the silent sample before the pluck
    burst = rng.uniform(-1.0, 1.0, period)
    y[1 : period + 1] = (burst - burst.mean())[: t.size]  # zero mean: the loop keeps DC forever
    # y[n] needs only samples at least P back, so a whole period can be computed at once
    for start in range(period + 1, t.size + 1, period):
        stop = min(start + period, t.size + 1)
        y[start:stop] = 0.996 * 0.5 * (y[start - period : stop - period] + y[start - period - 1 : stop - period - 1])
    return y[1:]


def _flute(f0, t, sample_rate, rng):
    # An air jet over a pipe: almost a pure sine, weak 2nd and 3rd harmonics, gentle vibrato.
    freq = _vibrato(f0, t, cents=5, rate_hz=5.0, delay=0.2)
    tone = _partials(_phase(freq, sample_rate), (1, 2, 3), (1.0, 0.15, 0.06), sample_rate, freq.max())
    # Breath noise: white noise through a 6-sample moving average (a lowpass near sr / 6).
    breath = np.convolve(rng.uniform(-1.0, 1.0, t.size), np.ones(6) / 6, mode="same")
    # Soft attack: ~80 ms for the jet to lock onto the pipe; the breath follows the same envelope.
    return np.clip(t / 0.08, 0.0, 1.0) * (tone + 0.3 * breath)


def _organ(f0, t, sample_rate, rng):
    # A drawbar organ sums pipes at fixed multiples of the note, each drawbar setting one level.
    tone = _partials(2 * np.pi * f0 * t, DRAWBAR_RATIOS, DRAWBAR_WEIGHTS, sample_rate, f0)
    # Wind on (10 ms attack), flat sustain, wind off (the release fade).
    return np.clip(t / 0.01, 0.0, 1.0) * tone


def _bass(f0, t, sample_rate, rng):
    # A plucked bass string: sawtooth partials 1/k whose upper partials die first, as if a
    # lowpass filter closed over the note: partial k decays at 3 (k - 1) per second.
    k = np.arange(1, 13)
    amps = (1.0 / k)[:, None] * np.exp(-np.outer(3.0 * (k - 1), t))  # (K, N)
    tone = _partials(2 * np.pi * f0 * t, k, amps, sample_rate, f0)
    # Plucky envelope: 5 ms attack, then the whole note fades with a 0.5 s time constant.
    return np.clip(t / 0.005, 0.0, 1.0) * np.exp(-t / 0.5) * tone


VOICES = {"piano": _piano, "violin": _violin, "guitar": _guitar, "flute": _flute, "organ": _organ, "bass": _bass}


def render_note(
    instrument: str, midi: float, seconds: float, sample_rate: int = 22050, rng: np.random.Generator | None = None
) -> np.ndarray:
    """One note, float64, peak 1 (so instruments mix at equal level), ending in a release."""
    _check_choice("instrument", instrument, INSTRUMENTS)
    rng = np.random.default_rng(0) if rng is None else rng
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    if t.size == 0:
        return t
    note = VOICES[instrument](float(midi_to_hz(midi)), t, sample_rate, rng)
    return _release(note / max(np.abs(note).max(), 1e-12), sample_rate)


def _kick(t, sample_rate, rng):
    # A struck membrane drops in pitch as its tension relaxes: 150 Hz sweeping down to 50 Hz.
    freq = 50 + 100 * np.exp(-t / 0.03)
    return np.sin(_phase(freq, sample_rate)) * np.exp(-t / 0.12)


def _snare(t, sample_rate, rng):
    # The snare wires rattle (noise) over the drum body's tone near 180 Hz.
    rattle = rng.uniform(-1.0, 1.0, t.size) * np.exp(-t / 0.06)
    return 0.6 * rattle + 0.5 * np.sin(2 * np.pi * 180 * t) * np.exp(-t / 0.04)


def _hihat(t, sample_rate, rng):
    # A closed hi-hat: bright noise (a first difference is a highpass), choked within ~20 ms.
    return 0.5 * np.diff(rng.uniform(-1.0, 1.0, t.size + 1)) * np.exp(-t / 0.01)


# (voice, length in s, level) of each drum
KICK, SNARE, HIHAT = (_kick, 0.3, 0.9), (_snare, 0.2, 0.6), (_hihat, 0.05, 0.3)


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
    scale = scale_midi(labels["key"], labels["mode"], *REGISTERS[labels["instrument"]])
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


def _place(mix: np.ndarray, sound: np.ndarray, start: float, sample_rate: int) -> None:
    """Add `sound` into `mix` from `start` seconds; cut at the clip end with its own release."""
    begin = int(round(start * sample_rate))
    room = mix.size - begin
    if room <= 0:
        return
    if sound.size > room:
        sound = _release(sound[:room].copy(), sample_rate)
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
        for voice, length, level in (KICK if k % 4 in (0, 2) else SNARE, HIHAT):
            t = np.arange(int(round(length * sample_rate))) / sample_rate
            _place(mix, level * _release(voice(t, sample_rate, rng), sample_rate), time, sample_rate)
            onsets.append(time)
    # normalise: the loudest sample becomes PEAK
    mix *= PEAK / max(np.abs(mix).max(), 1e-12)
    return mix.astype(np.float32), ClipLabels(seed=int(seed), **labels, onsets=_merge_close(onsets), beats=tuple(beats))


def write_dataset(out_dir, n: int, seconds: float, seed: int, sample_rate: int = 22050) -> list[Path]:
    """Write clip_00000.wav ... (16-bit, seeds seed, seed + 1, ...) and metadata.csv; return
    the clip paths. Files are written under a temporary name, then renamed."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    _check_seed(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths, rows, sf = [], [], soundfile()
    for i in range(n):
        audio, labels = synth_clip(seed + i, seconds, sample_rate)
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
    _check_choice("instrument", labels["instrument"], INSTRUMENTS)
    _check_choice("mode", labels["mode"], MODES)
    _check_choice("key", labels["key"], KEYS)
    low, high = TEMPO_RANGE
    tempo = labels["tempo"]
    if isinstance(tempo, bool) or not isinstance(tempo, numbers.Real) or not low <= tempo <= high:
        raise ValueError(f"tempo {tempo!r} BPM is outside {low}..{high}")
    if labels["drums"] not in (True, False):
        raise ValueError(f"drums must be True or False, got {labels['drums']!r}")
