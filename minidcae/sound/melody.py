"""Melody as a condition: notes, a frame-aligned piano roll, standard MIDI files, and the melody encoder.

    piano_roll       notes -> (PITCHES + 1, frames): how much of each frame each pitch sounds, and where the melody is given
    roll_notes       a piano roll back to its notes' pitch in each frame (-1 for a rest or no melody)
    read_midi        a standard MIDI file -> the notes of one line (the highest non-drum track by default)
    fit_length       a melody looped (or padded) to fill a clip, and cut at its end
    fit_register     a melody moved by whole octaves into an instrument's register

A melody is a list of notes, each (start in seconds, length in seconds, MIDI number), as
synth.melody_of returns them. The transformer reads it at the latent frame rate (one frame per
latent frame, about 10.8 per second here): row p of the roll is MIDI LOWEST + p, its value the
share of the frame that pitch sounds; the last row is 1 where a melody is given at all. A rest
inside a given melody is a column with only that last row set; a column of zeros means "no
melody here", which is how guidance and a melody given over part of a clip are expressed.

MIDI files are read with mido (MIT). Taught in notebook 10 (melody conditioning).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from minidcae.core.errors import MinidcaeError
from minidcae.sound.synth import REGISTERS

LOWEST, PITCHES = 21, 88  # the piano's keys, A0 (MIDI 21) to C8 (MIDI 108)
GIVEN = PITCHES  # the roll's last row: 1 where a melody is given
DRUM_CHANNEL = 9  # General MIDI: channel 10 (9 counting from 0) is percussion
MIN_NOTE_SECONDS = 0.03  # shorter notes in a MIDI file are ornaments or glitches: dropped


def piano_roll(notes, frames: int, frame_rate: float, start: float = 0.0, end: float | None = None) -> torch.Tensor:
    """(PITCHES + 1, frames) float: roll[p, k] = the share of frame k, [k / rate, (k + 1) / rate), during
    which MIDI LOWEST + p sounds; roll[GIVEN, k] = 1 where frame k lies in [start, end) (the melody is
    given there; end None = to the last frame). Notes outside the piano's range are moved by octaves into it."""
    roll = torch.zeros(PITCHES + 1, frames)
    edges = torch.arange(frames + 1) / frame_rate  # (frames + 1,) seconds: frame k spans edges[k] .. edges[k + 1]
    end = edges[-1].item() if end is None else end
    for onset, length, midi in notes:
        pitch = int(midi) - LOWEST
        while pitch < 0:
            pitch += 12
        while pitch >= PITCHES:
            pitch -= 12
        # overlap of [onset, onset + length) with each frame, as a share of the frame
        overlap = (torch.clamp(edges[1:], max=onset + length) - torch.clamp(edges[:-1], min=onset)).clamp(min=0)
        roll[pitch] = torch.maximum(roll[pitch], (overlap * frame_rate).clamp(max=1.0))  # (frames,)
    centres = (edges[:-1] + edges[1:]) / 2  # (frames,)
    given = (centres >= start) & (centres < end)  # (frames,)
    roll[GIVEN] = given.float()
    roll[:PITCHES, ~given] = 0.0  # outside the given span nothing is said about pitch
    return roll


def roll_notes(roll: torch.Tensor) -> torch.Tensor:
    """(PITCHES + 1, T) -> (T,) long: the MIDI number sounding longest in each frame, -1 where none
    sounds or no melody is given."""
    loudest = roll[:PITCHES].max(dim=0)  # values (T,), indices (T,)
    return torch.where(loudest.values > 0, loudest.indices + LOWEST, torch.full_like(loudest.indices, -1))


def fit_length(notes, seconds: float, fill: str = "loop") -> list:
    """Notes that fill `seconds`: loop repeats the melody from its start (its period is its last note's end)
    until the clip is full; pad leaves the rest of the clip without a melody. Both cut at `seconds`."""
    if fill not in ("loop", "pad"):
        raise MinidcaeError(f"--melody-fill must be loop or pad, got {fill!r}")
    notes = sorted(notes)
    if not notes:
        return []
    period = max(s + n for s, n, _ in notes)
    repeats = math.ceil(seconds / period) if fill == "loop" else 1
    out = []
    for r in range(repeats):
        for s, n, m in notes:
            begin = s + r * period
            if begin < seconds:
                out.append((begin, min(n, seconds - begin), int(m)))
    return out


def fit_register(notes, instrument: str) -> tuple[list, int]:
    """(notes moved by whole octaves so their median pitch lies nearest the middle of the instrument's
    register, the shift in semitones). The model learned each instrument in its own register only."""
    if not notes:
        return [], 0
    low, high = REGISTERS[instrument]
    median = float(np.median([m for _, _, m in notes]))
    shift = 12 * round(((low + high) / 2 - median) / 12)
    return [(s, n, int(m) + shift) for s, n, m in notes], shift


def read_midi(path, track: int | None = None) -> tuple[list, dict]:
    """(notes, info) from a standard MIDI file: the notes of one track, as a single line (where notes
    overlap, the highest one sounds: the "skyline"), in seconds under the file's tempo map.

    track None picks the melodic track (no drum-channel notes) with the highest mean pitch; info says which
    track was read and lists every track with its note count. Raises MinidcaeError, naming the file, when it
    is missing, not MIDI, has no notes, or the track has none."""
    import mido

    path = Path(path)
    if not path.is_file():
        raise MinidcaeError(f"{path}: no such MIDI file")
    try:
        midi = mido.MidiFile(str(path))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as err:
        raise MinidcaeError(f"{path}: not a standard MIDI file ({err}); pass a .mid file") from None
    if midi.type == 2:
        raise MinidcaeError(f"{path}: a type 2 MIDI file (independent patterns) is not supported; pass type 0 or 1")
    tracks = [_track_notes(t, midi) for t in midi.tracks]  # per track: [(start, length, midi, channel)]
    melodic = {i: [n for n in notes if n[3] != DRUM_CHANNEL] for i, notes in enumerate(tracks)}
    listing = [{"track": i, "name": midi.tracks[i].name, "notes": len(melodic[i])} for i in range(len(tracks))]
    if track is None:
        candidates = [i for i in melodic if melodic[i]]
        if not candidates:
            raise MinidcaeError(f"{path}: no melodic notes (empty, or drums only); pass a MIDI file with a melody")
        track = max(candidates, key=lambda i: np.mean([n[2] for n in melodic[i]]))
    elif not 0 <= track < len(tracks):
        raise MinidcaeError(f"{path}: --melody-track {track} does not exist; the file has tracks 0..{len(tracks) - 1}")
    elif not melodic[track]:
        found = ", ".join(f"{t['track']} ({t['notes']} notes)" for t in listing if t["notes"]) or "none"
        raise MinidcaeError(f"{path}: track {track} has no melodic notes; tracks with notes: {found}")
    notes = _skyline([n[:3] for n in melodic[track]])
    return notes, {"track": track, "tracks": listing, "seconds": max(s + n for s, n, _ in notes)}


def _tempo_map(midi) -> list:
    """[(tick, seconds at that tick, microseconds per beat from there)], from every track's set_tempo.

    Sorted by tick alone, and stably: tempo events on one tick keep the order they have in the file (track by
    track), as a player meets them, so the last one holds. (Sorted by value as well, 60 then 144 BPM at tick 0
    would play at 60.)"""
    changes = sorted(
        ((tick, msg.tempo) for track in midi.tracks for tick, msg in _absolute(track) if msg.type == "set_tempo"),
        key=lambda change: change[0],
    )
    points, seconds, last_tick, tempo = [(0, 0.0, 500_000)], 0.0, 0, 500_000  # MIDI's default: 120 BPM
    for tick, new in changes:
        seconds += (tick - last_tick) * tempo / 1e6 / midi.ticks_per_beat
        last_tick, tempo = tick, new
        points.append((tick, seconds, tempo))
    return points


def _absolute(track):
    tick = 0
    for msg in track:
        tick += msg.time
        yield tick, msg


def _track_notes(track, midi) -> list:
    """[(start s, length s, MIDI, channel)] of one track; a note_on with velocity 0 is a note_off.

    A pitch struck again before its note-off opens a second note, and a note-off ends every note of its channel
    and pitch opened before its tick (one opened on that very tick stays open), as pretty_midi reads them."""
    points = _tempo_map(midi)

    def seconds(tick):
        # the last tempo change at or before `tick`, then its tempo onwards
        t0, s0, tempo = next(p for p in reversed(points) if p[0] <= tick)
        return s0 + (tick - t0) * tempo / 1e6 / midi.ticks_per_beat

    sounding, notes = {}, []  # (channel, pitch) -> the ticks of its open note_ons
    for tick, msg in _absolute(track):
        if msg.type == "note_on" and msg.velocity > 0:
            sounding.setdefault((msg.channel, msg.note), []).append(tick)
        elif msg.type in ("note_off", "note_on") and (msg.channel, msg.note) in sounding:
            opened = sounding.pop((msg.channel, msg.note))
            for begin in (b for b in opened if b != tick):
                start, stop = seconds(begin), seconds(tick)
                if stop - start >= MIN_NOTE_SECONDS:
                    notes.append((start, stop - start, msg.note, msg.channel))
            if tick in opened:
                sounding[(msg.channel, msg.note)] = [tick]
    return sorted(notes)


def _skyline(notes) -> list:
    """One line from possibly overlapping notes: a note is cut where a higher one, or the same pitch struck
    again, starts over it."""
    notes = sorted(notes, key=lambda n: (n[0], -n[2]))
    line = []
    for start, length, pitch in notes:
        if line and start < line[-1][0] + line[-1][1]:  # overlaps the note before
            s, n, p = line[-1]
            if pitch < p:
                continue  # the note before is higher: it keeps sounding
            line[-1] = (s, start - s, p)  # the higher new note, or the same one struck again, cuts it
            if line[-1][1] < MIN_NOTE_SECONDS:
                line.pop()
        line.append((start, length, pitch))
    return [(float(s), float(n), int(p)) for s, n, p in line]


def resize_roll(roll: torch.Tensor, frames: int) -> torch.Tensor:
    """(..., P + 1, T) -> (..., P + 1, frames): cut, or pad with "no melody" columns (zeros)."""
    t = roll.shape[-1]
    return roll[..., :frames] if t >= frames else F.pad(roll, (0, frames - t))
