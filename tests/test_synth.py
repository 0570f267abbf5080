"""Tests for minidcae.sound.synth: determinism, labels, and truth checked against the audio itself."""

import csv

import numpy as np
import pytest
import soundfile as sf

from minidcae.sound import synth, voices

SR = 22050


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)))


def _peak_hz(x: np.ndarray, sample_rate: int = SR) -> float:
    # the frequency of the largest bin of a Hann-windowed spectrum
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / sample_rate)[spectrum.argmax()])


def test_synth_same_seed_same_samples_and_labels():
    a, labels_a = synth.synth_clip(7, 2.0)
    b, labels_b = synth.synth_clip(7, 2.0)
    assert np.array_equal(a, b)
    assert labels_a == labels_b


def test_synth_different_seed_different_samples():
    a, _ = synth.synth_clip(7, 2.0)
    b, _ = synth.synth_clip(8, 2.0)
    assert not np.array_equal(a, b)


def test_overrides_do_not_change_other_labels_or_melody_rng():
    drawn = synth.draw_labels(11)
    fixed = synth.draw_labels(11, tempo=100)
    assert fixed["tempo"] == 100.0
    assert {k: v for k, v in fixed.items() if k != "tempo"} == {k: v for k, v in drawn.items() if k != "tempo"}


@pytest.mark.parametrize("instrument", synth.INSTRUMENTS)
def test_every_instrument_renders_exact_length_finite_and_normalised(instrument):
    seconds = 1.37
    for drums in (False, True):
        audio, labels = synth.synth_clip(5, seconds, SR, instrument=instrument, drums=drums)
        assert labels.instrument == instrument
        assert audio.dtype == np.float32
        assert audio.shape == (round(seconds * SR),)
        assert np.all(np.isfinite(audio))
        assert 0.1 < np.abs(audio).max() <= 0.95 + 1e-6


def test_label_distribution_covers_every_class():
    drawn = [synth.draw_labels(seed) for seed in range(300)]
    assert {d["instrument"] for d in drawn} == set(synth.INSTRUMENTS)
    assert {d["mode"] for d in drawn} == set(synth.MODES)
    assert {d["drums"] for d in drawn} == {True, False}
    tempi = np.array([d["tempo"] for d in drawn])
    assert tempi.min() >= 60 and tempi.max() <= 180
    assert np.array_equal(tempi, np.round(tempi))  # whole BPM
    # uniform over 121 tempi: 300 draws should not bunch at one end
    assert tempi.min() < 80 and tempi.max() > 160


@pytest.mark.parametrize("instrument", ["piano", "guitar", "bass"])
def test_onsets_match_energy_rises_in_the_audio(instrument):
    # Independent of the synth's bookkeeping: at a true onset of a plucked or struck note the
    # 20 ms after it must be louder than the 20 ms before it. As a control, half-way between
    # onsets (where these decaying notes only fade) that must mostly fail.
    window = int(0.02 * SR)
    hits, controls = [], []
    for seed in range(6):
        audio, labels = synth.synth_clip(seed, 4.0, SR, instrument=instrument, drums=False)
        onsets = np.array(labels.onsets)
        for time in onsets[1:]:
            i = int(round(time * SR))
            if i + window <= audio.size:
                hits.append(_rms(audio[i : i + window]) > 1.2 * _rms(audio[i - window : i]))
        for time in (onsets[:-1] + onsets[1:]) / 2:
            i = int(round(time * SR))
            controls.append(_rms(audio[i : i + window]) > 1.2 * _rms(audio[i - window : i]))
    assert len(hits) > 20
    assert np.mean(hits) >= 0.9
    assert np.mean(controls) <= 0.1


def test_onsets_and_beats_are_sorted_inside_the_clip_and_include_drum_hits():
    audio, labels = synth.synth_clip(2, 3.0, drums=True)
    onsets = np.array(labels.onsets)
    assert onsets[0] == 0.0 and onsets[-1] < 3.0
    assert np.all(np.diff(onsets) > 1e-3)  # sorted, merged within 1 ms
    # every beat carries a drum hit, so every beat is (within 1 ms) an onset
    assert all(np.min(np.abs(onsets - beat)) <= 1e-3 for beat in labels.beats)


@pytest.mark.parametrize("tempo", [60, 72, 97, 120, 180])
def test_beats_are_spaced_exactly_sixty_over_tempo(tempo):
    seconds = 3.3
    _, labels = synth.synth_clip(4, seconds, tempo=tempo)
    beats = np.array(labels.beats)
    assert beats[0] == 0.0
    np.testing.assert_allclose(np.diff(beats), 60.0 / tempo, rtol=0, atol=1e-12)
    # every k with k * 60 / tempo < seconds, and no more
    assert beats[-1] < seconds <= len(beats) * 60.0 / tempo


@pytest.mark.parametrize("instrument", ["organ", "flute", "piano", "violin", "bass"])
def test_a4_note_peaks_at_440_hz(instrument):
    note = voices.render_note(instrument, 69, 2.0, SR, np.random.default_rng(0))
    assert note.shape == (2 * SR,)
    assert abs(_peak_hz(note) - 440.0) <= 0.01 * 440.0


def test_guitar_block_karplus_strong_matches_sample_by_sample_loop():
    # Second implementation: the recurrence y[n] = 0.996 * (y[n-P] + y[n-P-1]) / 2 one sample
    # at a time, from the same noise burst, must equal the block-vectorised string.
    f0, n = 196.0, 3000
    t = np.arange(n) / SR
    fast = voices._guitar(f0, t, SR, np.random.default_rng(3))
    period = int(round(SR / f0 - 0.5))
    burst = np.random.default_rng(3).uniform(-1.0, 1.0, period)
    slow = np.zeros(n)
    slow[:period] = burst - burst.mean()
    for i in range(period, n):
        before = slow[i - period - 1] if i - period - 1 >= 0 else 0.0
        slow[i] = 0.996 * 0.5 * (slow[i - period] + before)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)
    # and the string rings at sr / (P + 1/2): autocorrelation peaks near one period
    ac = np.correlate(fast, fast, mode="full")[n - 1 :]
    assert abs(SR / (np.argmax(ac[period // 2 :]) + period // 2) - f0) <= 0.02 * f0


def test_midi_to_hz_matches_equal_temperament():
    assert voices.midi_to_hz(69) == 440.0
    assert voices.midi_to_hz(57) == 220.0
    assert abs(voices.midi_to_hz(60) - 261.6256) < 1e-4  # middle C


def test_every_instrument_has_a_voice_and_every_drum_ends_in_silence():
    assert tuple(voices.VOICES) == synth.INSTRUMENTS  # the labels' instruments, in the same order
    for drum, (_, length, _) in voices.DRUMS.items():
        hit = voices.render_drum(drum, SR, np.random.default_rng(0))
        assert len(hit) == round(length * SR) and hit[-1] == 0.0 and np.abs(hit[:100]).max() > 0.01


@pytest.mark.parametrize("key", ["C", "F#", "A"])
def test_scale_intervals_are_major_and_natural_minor(key):
    root = 48 + synth.KEYS.index(key)
    major = synth.scale_midi(key, "major", root, root + 12)
    minor = synth.scale_midi(key, "minor", root, root + 12)
    assert tuple(np.diff(major)) == (2, 2, 1, 2, 2, 2, 1)
    assert tuple(np.diff(minor)) == (2, 1, 2, 2, 1, 2, 2)


def test_a_minor_scale_is_the_white_keys_from_a():
    # hand-worked: A3 B3 C4 D4 E4 F4 G4 A4
    assert list(synth.scale_midi("A", "minor", 57, 69)) == [57, 59, 60, 62, 64, 65, 67, 69]


def test_melody_notes_are_in_the_key():
    # independent of the note list: the spectral peak inside each note is a scale tone
    audio, labels = synth.synth_clip(9, 4.0, instrument="flute", key="D", mode="major", drums=False)
    scale_hz = voices.midi_to_hz(synth.scale_midi("D", "major", 60, 96))
    ends = list(labels.onsets[1:]) + [4.0]
    checked = 0
    for start, end in zip(labels.onsets, ends):
        i, j = int(round(start * SR)) + 2000, int(round(end * SR)) - 300
        if j - i > 2048:
            hz = _peak_hz(audio[i:j])
            assert np.min(np.abs(scale_hz - hz) / hz) < 0.02
            checked += 1
    assert checked >= 3


def test_write_dataset_twice_is_byte_identical(tmp_path):
    first = synth.write_dataset(tmp_path / "a", n=3, seconds=0.5, seed=10)
    second = synth.write_dataset(tmp_path / "b", n=3, seconds=0.5, seed=10)
    assert [p.name for p in first] == [p.name for p in second] == ["clip_00000.wav", "clip_00001.wav", "clip_00002.wav"]
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert names == ["clip_00000.wav", "clip_00001.wav", "clip_00002.wav", "metadata.csv"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_write_dataset_wav_and_metadata_agree_with_synth_clip(tmp_path):
    paths = synth.write_dataset(tmp_path, n=4, seconds=0.5, seed=20)
    with open(tmp_path / "metadata.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    assert list(rows[0]) == ["file", "seed", "instrument", "mode", "key", "tempo", "drums", "prompt", "onsets", "beats"]
    for i, (path, row) in enumerate(zip(paths, rows)):
        audio, labels = synth.synth_clip(20 + i, 0.5)
        data, rate = sf.read(path, dtype="float32")
        assert sf.info(path).subtype == "PCM_16" and rate == SR
        assert np.max(np.abs(data - audio)) <= 1.0 / 32767  # one 16-bit step
        assert row["file"] == path.name and int(row["seed"]) == 20 + i
        assert row["prompt"] == labels.prompt()
        assert [float(x) for x in row["beats"].split()] == [round(b, 4) for b in labels.beats]


@pytest.mark.parametrize("kwargs", [dict(n=0, seconds=1.0), dict(n=2, seconds=0.0), dict(n=2, seconds=-1.0)])
def test_write_dataset_rejects_bad_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError):
        synth.write_dataset(tmp_path / "x", seed=0, **kwargs)


def test_bad_overrides_raise_value_error_naming_the_choices():
    with pytest.raises(ValueError, match="piano, violin, guitar, flute, organ, bass"):
        synth.draw_labels(0, instrument="kazoo")
    with pytest.raises(ValueError, match="tempo"):
        synth.draw_labels(0, tempo=59)
    with pytest.raises(ValueError, match="tempo"):
        synth.synth_clip(0, 1.0, tempo=181)
    with pytest.raises(ValueError):
        synth.draw_labels(0, mode="dorian")
    with pytest.raises(ValueError):
        synth.draw_labels(0, colour="blue")
    with pytest.raises(ValueError):
        synth.synth_clip(-1, 1.0)


def test_overrides_are_reflected_in_labels_and_prompt():
    _, labels = synth.synth_clip(3, 2.0, instrument="violin", mode="minor", tempo=72, drums=False)
    assert (labels.instrument, labels.mode, labels.tempo, labels.drums) == ("violin", "minor", 72.0, False)
    assert labels.prompt() == "sad violin, 72 bpm"
    _, labels = synth.synth_clip(3, 2.0, instrument="piano", mode="major", tempo=120, drums=True)
    assert labels.prompt() == "happy piano, 120 bpm, drums"


def test_as_row_formats_times_with_four_decimals():
    labels = synth.ClipLabels(
        seed=1,
        instrument="organ",
        mode="major",
        key="C",
        tempo=90.0,
        drums=False,
        onsets=(0.0, 1 / 3),
        beats=(0.0, 2 / 3),
    )
    row = labels.as_row()
    assert row["onsets"] == "0.0000 0.3333" and row["beats"] == "0.0000 0.6667"
    assert row["prompt"] == "happy organ, 90 bpm"


@pytest.mark.parametrize("instrument", synth.INSTRUMENTS)
def test_every_note_ends_in_a_release_to_silence(instrument):
    # the last 5 ms fall linearly to zero, so cutting the note off cannot click
    note = voices.render_note(instrument, 60, 0.3, SR, np.random.default_rng(1))
    tail = np.abs(note[-int(0.005 * SR) :])
    assert note[-1] == 0.0
    assert tail.max() <= 0.5 * np.abs(note).max()


def test_melody_of_is_the_melody_synth_clip_plays():
    # the onsets synth_clip reports (without drums) are exactly the starts of melody_of's notes
    for seed in range(20):
        _, labels = synth.synth_clip(seed, 2.0, drums=False)
        notes = synth.melody_of(seed, 2.0, drums=False)
        assert tuple(round(s, 6) for s, _, _ in notes) == tuple(round(t, 6) for t in labels.onsets)
        low, high = synth.REGISTERS[labels.instrument]
        assert all(low <= m <= high for _, _, m in notes)


def test_synth_clip_with_its_own_notes_is_unchanged_and_other_notes_change_it():
    own, _ = synth.synth_clip(3, 1.5)
    again, _ = synth.synth_clip(3, 1.5, notes=synth.melody_of(3, 1.5))
    np.testing.assert_array_equal(own, again)
    other, labels = synth.synth_clip(3, 1.5, notes=[(0.0, 1.0, 60), (5.0, 1.0, 62)])  # the second note is past the end
    assert not np.array_equal(own, other)
    assert labels.onsets[0] == 0.0


# sha256 of every clip below, as 16-bit PCM (what `minidcae synth` writes) and with its labels, taken before the new
# voice existed: adding a voice beside the six must not move one sample of the data the shipped models learned from
SHIPPED_DATA_SHA256 = "9284927de16a22bef0bb8bdd821dbd253f8cddb1c0eafa7ad07df7477d31e09e"


def test_every_existing_clip_is_byte_identical_after_the_new_voice():
    import hashlib

    h = hashlib.sha256()
    for s in [*range(12), *(synth.HELDOUT_SEED_BASE + k for k in range(6))]:
        wav, labels = synth.synth_clip(s, 3.0, SR)
        h.update(np.round(wav.astype(np.float64) * 32767).astype("<i2").tobytes())
        h.update(repr(labels).encode())
    for instrument in synth.INSTRUMENTS:  # every voice, by override, playing given notes
        wav, _ = synth.synth_clip(7, 2.0, SR, instrument=instrument, notes=[(0.0, 0.5, 60), (0.5, 1.0, 64)])
        h.update(np.round(wav.astype(np.float64) * 32767).astype("<i2").tobytes())
    assert h.hexdigest() == SHIPPED_DATA_SHA256


def test_the_new_voice_plays_only_when_named_and_keeps_the_seeds_other_labels():
    assert "bell" not in synth.INSTRUMENTS and "bell" in voices.NEW_VOICES and "bell" not in voices.VOICES
    drawn = {synth.draw_labels(s)["instrument"] for s in range(300)}
    assert drawn == set(synth.INSTRUMENTS)  # the labels never draw it
    wav, labels = synth.synth_clip(5, 2.0, SR, instrument="bell")
    plain = synth.draw_labels(5)
    assert labels.instrument == "bell" and (labels.mode, labels.key, labels.tempo) == (
        plain["mode"],
        plain["key"],
        plain["tempo"],
    )
    low, high = synth.NEW_REGISTERS["bell"]
    assert all(low <= m <= high for _, _, m in synth.melody_of(5, 2.0, instrument="bell"))
    with pytest.raises(ValueError, match="bell"):
        synth.synth_clip(5, 2.0, SR, instrument="kazoo")


def test_the_bell_is_fm_with_an_inharmonic_sideband():
    # FM at ratio 3.5: sidebands at f0 +- 3.5 k f0, so 2.5 f0 (= |f0 - 3.5 f0|) and 4.5 f0 carry energy that no
    # harmonic voice has, and 2 f0 (a harmonic) next to none
    f0 = 220.0
    note = voices.render_note("bell", 57, 1.0, SR)
    spectrum = np.abs(np.fft.rfft(note * np.hanning(note.size)))
    freqs = np.fft.rfftfreq(note.size, 1 / SR)

    def level(hz):
        return spectrum[np.abs(freqs - hz) < 5].max()

    assert level(2.5 * f0) > 10 * level(2 * f0) and level(4.5 * f0) > 10 * level(2 * f0)
    assert level(f0) == pytest.approx(spectrum.max(), rel=0.5)
