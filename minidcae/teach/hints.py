"""The exercises' hints, kept here so that no hint sits on a notebook's page above its exercise:
`check.hint("my_space_to_channel")` prints the next one. Taught with every notebook's exercises.

Each exercise has two or three hints, each nearer than the one before; the last is a plan in words,
never the answer (tests/test_exercise_order.py fails when a hint holds a line of its exercise's
solution, or names no exercise of any notebook). The key is the name the student meets: the
student's function (`my_...`) for a build exercise, the name given to `check.exercise(...)` for an
open one. One table per notebook, so that each notebook's hints are edited in one place.
"""

from __future__ import annotations

NB00 = {
    "my_mel_filterbank": (
        "Work in float64 and cast to float32 at the end. Three pieces: Hz to mel, mel to Hz (its inverse), "
        "and the n_mels + 2 edge points spaced evenly in mel.",
        "Each triangle is the smaller of a line rising from its left edge to its centre and one falling from its "
        "centre to its right edge, clamped at 0; broadcast the bins' frequencies (F, 1) against the edges (M,).",
        "If only the front ends with f_min > 0 or many mels are off, look at 1 kHz: the two pieces of the mel "
        "scale must meet there. If every weight is off by a factor, look at the equal-area normalisation.",
    ),
    "my_griffin_lim_step": (
        "magnitude * phase is a complex (N, n_freqs, frames) spectrogram; torch.istft takes it to (N, samples) "
        "and torch.stft brings that back.",
        "Use the same Hann window of cfg.win_length, n_fft and hop in both transforms, and give the inverse the "
        "waveform length the exercise states, or the frames do not line up.",
        "The new phase has modulus 1 in every bin: the rebuilt STFT divided by its own magnitude (torch.polar "
        "or x / x.abs()). Return the rebuilt STFT itself as the second output.",
    ),
}

NB01: dict[str, tuple[str, ...]] = {}

NB02 = {
    "my_space_to_channel": (
        "Two steps. First move every sf x st patch into channels, with no averaging: check that this gives "
        "(B, C sf st, F / sf, T / st). Then average down to `channels`.",
        "In einops the first step splits F into (f sf) and T into (t st) and puts sf and st after c in the "
        "channel axis, in the order the exercise gives. The checker's 'another order' line points at this step.",
        "For the average, read the new channel axis as (channels, group), channels outermost, so that each "
        "output channel averages neighbouring channels; then take the mean over the group axis.",
    ),
    "my_vq": (
        "Flatten h to one C-vector per position, in (b, f, t) order, and measure it against every code "
        "(torch.cdist gives all the distances at once).",
        "The nearest code is an argmin over the codebook; index the codebook with it and put the result back "
        "in the (B, C, F, T) layout.",
        "Straight-through: the forward value must be the code, and the backward pass must see the identity "
        "in h. Write z as h plus a correction that carries no gradient.",
    ),
}

NB03: dict[str, tuple[str, ...]] = {}
NB04: dict[str, tuple[str, ...]] = {}
NB05: dict[str, tuple[str, ...]] = {}
NB06: dict[str, tuple[str, ...]] = {}
NB07: dict[str, tuple[str, ...]] = {}
NB08: dict[str, tuple[str, ...]] = {}
NB09: dict[str, tuple[str, ...]] = {}
NB10: dict[str, tuple[str, ...]] = {}
NB11: dict[str, tuple[str, ...]] = {}
NB12: dict[str, tuple[str, ...]] = {}
NB13: dict[str, tuple[str, ...]] = {}

HINTS: dict[str, tuple[str, ...]] = {
    **NB00,
    **NB01,
    **NB02,
    **NB03,
    **NB04,
    **NB05,
    **NB06,
    **NB07,
    **NB08,
    **NB09,
    **NB10,
    **NB11,
    **NB12,
    **NB13,
}
