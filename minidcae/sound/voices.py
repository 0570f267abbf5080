"""The synthesizer's instruments: six voices and three drums, each a few lines of physics or of a classic trick.

    midi_to_hz     equal temperament, A4 = MIDI 69 = 440 Hz
    VOICES         piano (inharmonic partials), violin (sawtooth with vibrato), guitar (Karplus-Strong), flute
                   (near-sine with breath), organ (drawbars), bass (partials that die top first)
    render_note    one note of an instrument, peak 1, ending in a release
    DRUMS / render_drum   kick (a falling sine), snare (noise over a tone), hi-hat (bright noise), one hit each
    release        the 10 ms fade every sound ends with
    NEW_VOICES     voices no shipped model was trained on, kept apart from VOICES (whose order the labels draw
                   from): bell (FM with an inharmonic ratio), the new sound notebook 14 teaches with LoRA

Everything is numpy float64; randomness (the guitar's pluck, the flute's breath, the drums' noise) comes from
the rng each call is given. What is played, when and how loud is minidcae.sound.synth. Taught in notebook 00.
"""

from __future__ import annotations

import numpy as np

RELEASE_SECONDS = 0.01  # every sound ends with a 10 ms fade: a jump to silence would click
DRAWBAR_RATIOS = (1, 2, 3, 4, 6, 8)
DRAWBAR_WEIGHTS = (1.0, 0.8, 0.5, 0.4, 0.25, 0.2)


def midi_to_hz(midi):
    # equal temperament: f = 440 * 2^((m - 69) / 12), A4 = MIDI 69 = 440 Hz
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69) / 12)


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


def release(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """x with a linear fade to zero over its last RELEASE_SECONDS (in place), so that it ends without a click."""
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


def _bell(f0, t, sample_rate, rng):
    # FM synthesis (Chowning): a sine at f0 whose phase is pushed by a sine at 3.5 f0. The ratio is not a
    # whole number, so the sidebands f0 +- k 3.5 f0 fall between the harmonics: a clangorous, bell-like tone.
    # The modulation index (how far the phase is pushed) falls over the note, so it starts bright and mellows.
    index = 6.0 * np.exp(-t / 1.0)
    tone = np.sin(2 * np.pi * f0 * t + index * np.sin(2 * np.pi * 3.5 * f0 * t))
    # Struck: an instant attack, then a slow fade with a 2 s time constant.
    return np.exp(-t / 2.0) * tone


# Voices kept out of every shipped model's training: the labels never draw them (a clip is made with one only by
# naming it, synth_clip(seed, seconds, instrument="bell")), so the shipped data does not change.
NEW_VOICES = {"bell": _bell}


def render_note(
    instrument: str, midi: float, seconds: float, sample_rate: int = 22050, rng: np.random.Generator | None = None
) -> np.ndarray:
    """One note, float64, peak 1 (so instruments mix at equal level), ending in a release."""
    voice = VOICES.get(instrument) or NEW_VOICES.get(instrument)
    if voice is None:
        raise ValueError(f"unknown instrument {instrument!r}; choose one of: {', '.join([*VOICES, *NEW_VOICES])}")
    rng = np.random.default_rng(0) if rng is None else rng
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    if t.size == 0:
        return t
    note = voice(float(midi_to_hz(midi)), t, sample_rate, rng)
    return release(note / max(np.abs(note).max(), 1e-12), sample_rate)


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
DRUMS = {"kick": (_kick, 0.3, 0.9), "snare": (_snare, 0.2, 0.6), "hihat": (_hihat, 0.05, 0.3)}


def render_drum(name: str, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """One hit of a drum of DRUMS at its level, float64, ending in a release."""
    voice, length, level = DRUMS[name]
    t = np.arange(int(round(length * sample_rate))) / sample_rate
    return level * release(voice(t, sample_rate, rng), sample_rate)
