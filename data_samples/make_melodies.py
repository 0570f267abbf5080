"""Write data_samples/melodies/: public-domain melodies no one here wrote, as standard MIDI files.

    bwv269.mid   J. S. Bach, chorale "Aus meines Herzens Grunde" (BWV 269), four voices on four tracks
                 (soprano, alto, tenor, bass), quarter note = 100 BPM

The notes come from music21's corpus (a MusicXML encoding of the chorale; the composition is in the
public domain). Only pitches, onsets and durations are kept; fermatas and everything else are dropped.
music21 is needed only to run this script, not by the course, which reads the .mid files it wrote:

    pip install music21 && python data_samples/make_melodies.py
"""

from pathlib import Path

import mido

OUT = Path(__file__).parent / "melodies"
TICKS_PER_BEAT = 480
BPM = 100


def write_chorale(name: str, corpus_path: str) -> Path:
    from music21 import corpus

    score = corpus.parse(corpus_path)
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(BPM), time=0)])
    midi.tracks.append(conductor)
    for channel, part in enumerate(score.parts):
        events = []  # (tick, order, message): note_off (order 0) before note_on (order 1) at the same tick
        for note in part.flatten().notes:
            start = round(float(note.offset) * TICKS_PER_BEAT)
            stop = start + round(float(note.quarterLength) * TICKS_PER_BEAT)
            for pitch in note.pitches:  # a chord in one voice: every pitch
                events.append((start, 1, mido.Message("note_on", channel=channel, note=pitch.midi, velocity=80)))
                events.append((stop, 0, mido.Message("note_off", channel=channel, note=pitch.midi, velocity=0)))
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=part.partName or f"voice {channel}", time=0)])
        last = 0
        for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
            track.append(msg.copy(time=tick - last))  # MIDI times are deltas in ticks
            last = tick
        midi.tracks.append(track)
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.mid"
    tmp = path.with_suffix(".mid.tmp")
    midi.save(str(tmp))
    tmp.replace(path)
    return path


if __name__ == "__main__":
    print(write_chorale("bwv269", "bach/bwv269"))
