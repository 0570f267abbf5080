"""Melody as a condition: the piano roll, MIDI files, and the model's melody layers."""

from dataclasses import replace

import mido
import pytest
import torch

from minidcae.core.config import SHIPPED_TRANSFORMER, TransformerConfig
from minidcae.core.errors import MinidcaeError
from minidcae.generation.sampling import sample_latents
from minidcae.models.text import tokenize
from minidcae.models.transformer import LatentTransformer, MelodyEncoder, load_transformer
from minidcae.sound.melody import (
    GIVEN,
    LOWEST,
    PITCHES,
    fit_length,
    fit_register,
    piano_roll,
    read_midi,
    roll_notes,
)


def test_piano_roll_holds_each_frames_share_of_each_note():
    # 10 frames a second: a note from 0.15 s to 0.4 s covers half of frame 1, all of frames 2 and 3
    roll = piano_roll([(0.15, 0.25, 60)], frames=6, frame_rate=10.0)
    assert roll.shape == (PITCHES + 1, 6)
    torch.testing.assert_close(roll[60 - LOWEST], torch.tensor([0.0, 0.5, 1.0, 1.0, 0.0, 0.0]))
    assert roll[:PITCHES].sum() == pytest.approx(2.5)  # nothing else sounds
    assert roll[GIVEN].tolist() == [1.0] * 6  # the melody is given everywhere, rests included
    assert roll_notes(roll).tolist() == [-1, 60, 60, 60, -1, -1]


def test_piano_roll_given_over_a_span_only_says_nothing_outside_it():
    roll = piano_roll([(0.0, 1.0, 64)], frames=10, frame_rate=10.0, start=0.2, end=0.5)
    assert roll[GIVEN].tolist() == [0, 0, 1, 1, 1, 0, 0, 0, 0, 0]
    assert roll[64 - LOWEST].tolist() == pytest.approx([0, 0, 1, 1, 1, 0, 0, 0, 0, 0])


def test_piano_roll_moves_notes_outside_the_piano_by_octaves():
    roll = piano_roll([(0.0, 0.1, LOWEST - 1), (0.1, 0.1, LOWEST + PITCHES)], frames=2, frame_rate=10.0)
    assert roll_notes(roll).tolist() == [LOWEST + 11, LOWEST + PITCHES - 12]


def test_fit_length_loops_or_pads_and_cuts_at_the_end():
    notes = [(0.0, 0.5, 60), (0.5, 0.5, 62)]  # one second long
    looped = fit_length(notes, 2.5, "loop")
    assert [(s, m) for s, _, m in looped] == [(0.0, 60), (0.5, 62), (1.0, 60), (1.5, 62), (2.0, 60)]
    assert looped[-1][1] == 0.5
    assert fit_length(notes, 2.5, "pad") == notes
    assert fit_length(notes, 0.7, "pad") == [(0.0, 0.5, 60), (0.5, pytest.approx(0.2), 62)]  # cut at 0.7 s
    with pytest.raises(MinidcaeError, match="loop or pad"):
        fit_length(notes, 1.0, "stretch")


def test_fit_register_moves_by_whole_octaves_into_the_register():
    moved, shift = fit_register([(0.0, 1.0, 67), (1.0, 1.0, 74)], "bass")  # bass plays 28..47
    assert shift % 12 == 0 and shift < 0
    assert all(28 <= m <= 47 for _, _, m in moved)
    assert fit_register([(0.0, 1.0, 72)], "violin") == ([(0.0, 1.0, 72)], 0)  # already in its middle


def _write_midi(path, tracks, tempo_changes=((0, 500_000),), ticks=480):
    """tracks: [[(start tick, stop tick, note, channel)]]; the tempo map goes on a conductor track."""
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks)
    conductor, last = mido.MidiTrack(), 0
    for tick, tempo in tempo_changes:
        conductor.append(mido.MetaMessage("set_tempo", tempo=tempo, time=tick - last))
        last = tick
    midi.tracks.append(conductor)
    for notes in tracks:
        events = sorted(
            [(a, 1, mido.Message("note_on", note=n, velocity=90, channel=c)) for a, _, n, c in notes]
            + [(b, 0, mido.Message("note_on", note=n, velocity=0, channel=c)) for _, b, n, c in notes],
            key=lambda e: (e[0], e[1]),
        )
        track, last = mido.MidiTrack(), 0
        for tick, _, msg in events:
            track.append(msg.copy(time=tick - last))
            last = tick
        midi.tracks.append(track)
    midi.save(str(path))
    return path


def test_read_midi_follows_the_tempo_map_and_picks_the_highest_melodic_track(tmp_path):
    bass = [(0, 960, 40, 1)]
    tune = [(0, 480, 72, 0), (480, 960, 74, 0), (960, 1440, 76, 0)]
    drums = [(0, 240, 90, 9), (480, 720, 90, 9)]  # high notes, but on the drum channel
    # 120 BPM (0.5 s a beat), then from tick 960 60 BPM (1 s a beat)
    path = _write_midi(tmp_path / "t.mid", [bass, tune, drums], ((0, 500_000), (960, 1_000_000)))
    notes, info = read_midi(path)
    assert info["track"] == 2
    assert [(round(s, 6), round(n, 6), m) for s, n, m in notes] == [(0.0, 0.5, 72), (0.5, 0.5, 74), (1.0, 1.0, 76)]
    assert read_midi(path, track=1)[0] == [(0.0, 1.0, 40)]


def mido_onsets(path) -> list[float]:
    """The seconds at which mido's own playback clock plays each note_on (the reference for our tempo map)."""
    now, onsets = 0.0, []
    for msg in mido.MidiFile(str(path)):  # merged tracks, msg.time = seconds since the message before
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            onsets.append(now)
    return onsets


def _write_events(path, events, tempos=(500_000,), ticks=480):
    """A type 0 file: the tempos (all at tick 0, in this order), then events [(tick, "on" | "off", note)] as given."""
    track, last = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=t, time=0) for t in tempos]), 0
    for tick, kind, note in events:
        track.append(mido.Message("note_on", note=note, velocity=90 if kind == "on" else 0, time=tick - last))
        last = tick
    midi = mido.MidiFile(type=0, ticks_per_beat=ticks)
    midi.tracks.append(track)
    midi.save(str(path))
    return path


def test_two_tempo_events_on_one_tick_are_read_in_file_order_as_mido_plays_them(tmp_path):
    # 60 BPM then 144 BPM, both at tick 0 (as in music21's test03): the second holds, a beat lasts 60 / 144 s.
    # Sorted by value, the 1,000,000 us of 60 BPM came last and every onset was 2.4 times late.
    tune = [(0, 480, 72, 0), (480, 960, 74, 0), (960, 1920, 76, 0), (4800, 5280, 77, 0)]
    path = _write_midi(tmp_path / "t.mid", [tune], ((0, 1_000_000), (0, 416_667)))
    notes, _ = read_midi(path)
    assert [s for s, _, _ in notes] == pytest.approx(mido_onsets(path), abs=1e-6)
    assert notes[1][0] == pytest.approx(416_667 / 1e6) and notes[-1][0] == pytest.approx(10 * 416_667 / 1e6)


def test_a_note_struck_again_before_its_note_off_is_a_second_note_as_mido_plays_it(tmp_path):
    # on 60 at 0, on 60 again at 480 before its note-off at 960; pretty_midi keeps both notes and ends both at the
    # first note-off (the second note-off finds nothing open). One line: the first runs to the re-strike.
    path = _write_events(tmp_path / "r.mid", [(0, "on", 60), (480, "on", 60), (960, "off", 60), (1440, "off", 60)])
    notes, _ = read_midi(path)
    assert [s for s, _, _ in notes] == pytest.approx(mido_onsets(path)) == [0.0, 0.5]
    assert notes == [(0.0, 0.5, 60), (0.5, 0.5, 60)]
    # a note-on written before the note-off on the same tick: the off ends the old note, the new one stays open
    path = _write_events(tmp_path / "s.mid", [(0, "on", 62), (480, "on", 62), (480, "off", 62), (960, "off", 62)])
    assert read_midi(path)[0] == [(0.0, 0.5, 62), (0.5, 0.5, 62)]


def test_read_midi_keeps_the_highest_of_overlapping_notes(tmp_path):
    chord = [(0, 960, 60, 0), (0, 480, 67, 0), (480, 960, 64, 0)]  # a low note held under two higher ones
    notes, _ = read_midi(_write_midi(tmp_path / "c.mid", [chord]))
    assert [(round(s, 6), round(n, 6), m) for s, n, m in notes] == [(0.0, 0.5, 67), (0.5, 0.5, 64)]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing.mid", "no such MIDI file"),
        (lambda d: (d / "text.mid").write_text("not midi at all") and d / "text.mid", "not a standard MIDI file"),
        (lambda d: (d / "empty.mid").write_bytes(b"") is not None and d / "empty.mid", "not a standard MIDI file"),
        (lambda d: _write_midi(d / "none.mid", [[]]), "no melodic notes"),
        (lambda d: _write_midi(d / "drums.mid", [[(0, 480, 36, 9)]]), "no melodic notes"),
    ],
)
def test_read_midi_refuses_bad_files_in_one_line_naming_them(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(MinidcaeError, match=message) as err:
        read_midi(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_read_midi_refuses_a_track_that_is_not_there_or_has_no_notes(tmp_path):
    path = _write_midi(tmp_path / "t.mid", [[(0, 480, 60, 0)]])
    with pytest.raises(MinidcaeError, match=r"tracks 0\.\.1"):
        read_midi(path, track=5)
    with pytest.raises(MinidcaeError, match=r"track 0 has no melodic notes; tracks with notes: 1 \(1 notes\)"):
        read_midi(path, track=0)


def test_the_shipped_chorale_reads_as_its_soprano_line():
    from minidcae.core.config import DATA_SAMPLES

    notes, info = read_midi(DATA_SAMPLES / "melodies" / "bwv269.mid")
    assert info["tracks"][info["track"]]["name"] == "Soprano"
    assert notes[0] == (0.0, 0.6, 67)  # G4, one beat at 100 BPM
    assert all(60 <= m <= 81 for _, _, m in notes)  # a soprano's range


def test_melody_encoder_gives_one_token_per_frame():
    tokens = MelodyEncoder(32)(torch.rand(2, PITCHES + 1, 17))
    assert tokens.shape == (2, 17, 32)


@pytest.mark.parametrize("kind", ["cross", "add"])
def test_a_melody_model_starts_as_the_text_model_it_is_made_from(kind):
    # the melody layers start at zero: with the text model's weights loaded, any melody changes nothing yet
    text, _ = load_transformer(SHIPPED_TRANSFORMER)
    model = LatentTransformer(replace(text.cfg, melody=kind)).eval()
    loaded = model.load_state_dict(text.state_dict(), strict=False)
    assert not loaded.unexpected_keys and all("melody" in k for k in loaded.missing_keys)
    x, (ids, mask) = torch.randn(2, 8, 16, 12), tokenize(["happy piano", "sad violin"])
    with torch.no_grad():
        torch.testing.assert_close(
            model(x, 0.4, ids, mask, melody=torch.rand(2, PITCHES + 1, 12)), text(x, 0.4, ids, mask)
        )


def test_a_trained_melody_layer_hears_the_melody_and_only_its_own_frames_order_matters():
    torch.manual_seed(0)
    cfg = TransformerConfig(latent_channels=2, latent_rows=2, dim=32, depth=1, heads=2, melody="cross")
    model = LatentTransformer(cfg).eval()
    for p in model.parameters():  # wake the zero-initialised layers up
        torch.nn.init.normal_(p, std=0.3)
    x, (ids, mask) = torch.randn(1, 2, 2, 8), tokenize(["happy piano"])
    roll = piano_roll([(0.0, 0.4, 60), (0.4, 0.4, 67)], 8, 10.0)[None]
    with torch.no_grad():
        a = model(x, 0.5, ids, mask, melody=roll)
        b = model(x, 0.5, ids, mask, melody=piano_roll([(0.0, 0.4, 67), (0.4, 0.4, 60)], 8, 10.0)[None])
        none = model(x, 0.5, ids, mask)  # None: no melody, the same as a roll of zeros
        zeros = model(x, 0.5, ids, mask, melody=torch.zeros_like(roll))
    assert (a - b).abs().max() > 1e-3  # the same notes in another order is another condition
    torch.testing.assert_close(none, zeros)


def test_sampling_with_a_melody_needs_a_melody_model():
    text, _ = load_transformer(SHIPPED_TRANSFORMER)
    with pytest.raises(ValueError, match="trained without a melody"):
        sample_latents(text, ["happy piano"], 4, steps=1, melody=torch.zeros(1, PITCHES + 1, 4))


def test_generate_with_a_midi_melody_writes_the_clip_and_says_which_track_it_read(tmp_path, capsys):
    from minidcae.cli.main import main
    from minidcae.core.config import DATA_SAMPLES

    out = tmp_path / "tune.wav"
    args = ["generate", "happy flute", str(out), "--melody", str(DATA_SAMPLES / "melodies" / "bwv269.mid")]
    assert main([*args, "--seconds", "1.5", "--steps", "2", "--iters", "2"]) == 0
    said = capsys.readouterr().out
    assert out.exists() and "track 1 of" in said and "cut at 1.5 s" in said and "+12 semitones" in said
    short = tmp_path / "short.mid"
    _write_midi(short, [[(0, 480, 72, 0)]])  # one beat at 120 BPM: 0.5 s
    assert main(["generate", "happy flute", str(out), "--melody", str(short), "--seconds", "1.2", "--steps", "1"]) == 0
    assert "looped to 1.2 s, 3 notes" in capsys.readouterr().out
