"""Regenerate minidcae's small set of real audio clips in data_samples/audio/.

Every clip comes from a Debian or PyPI package, so nothing is downloaded at
run time, and none was made by minidcae's own synthesiser. Four kinds:
  recorded-music  excerpts of the Endgame: Singularity soundtrack (CC BY-SA 3.0)
  instrument      recorded instrument and drum samples from Sonic Pi (CC0 only)
  speech          telephone prompts recorded by Allison Smith (CC BY-SA 3.0)
  rendered-score  public-domain scores from the music21 corpus, rendered by
                  FluidSynth with the FluidR3Mono GM soundfont (MIT)

Needs these Debian 12 packages and Python packages (versions as tested):
    apt-get update
    apt-get install -y fluidsynth fluidr3mono-gm-soundfont sonic-pi-samples \
        singularity-music asterisk-core-sounds-en-wav asterisk-core-sounds-en
    pip install music21==10.5.1 soundfile==0.14.0 numpy==2.4.6 scipy==1.17.1

Run `python data_samples/make_samples.py`: it rewrites audio/{train,heldout}/*.flac
and audio/metadata.csv, the same bytes on every run with the same package versions.
"""

import csv
import gzip
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

try:  # the Python packages; name the first one that is missing
    import music21
    import numpy as np
    import soundfile as sf
    from music21 import corpus, instrument, midi, tempo
    from scipy.signal import resample_poly
except ImportError as err:
    sys.exit(
        f"make_samples.py: missing pip package '{err.name}'. Install with: pip install music21 soundfile numpy scipy"
    )

OUT = Path(__file__).resolve().parent / "audio"
MUSIC_SR = 44100  # everything but speech is stored at 44.1 kHz
FADE_S = 0.010  # 10 ms fade-in and fade-out on every clip edge
PEAK_DBFS = -1.0  # every clip is peak-normalised to -1 dBFS

# Where the Debian packages put their files (path -> package that provides it).
SINGULARITY = Path("/usr/share/games/singularity/music")
SONICPI = Path("/usr/share/sonic-pi/samples")
SONICPI_COPYRIGHT = Path("/usr/share/doc/sonic-pi-samples/copyright")
ALLISON = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
ALLISON_TEXT = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
SOUNDFONT = Path("/usr/share/sounds/sf3/FluidR3Mono_GM.sf3")
APT_FILES = {
    SINGULARITY: "singularity-music",
    SONICPI_COPYRIGHT: "sonic-pi-samples",
    ALLISON: "asterisk-core-sounds-en-wav",
    ALLISON_TEXT: "asterisk-core-sounds-en",
    SOUNDFONT: "fluidr3mono-gm-soundfont",
    Path("/usr/bin/fluidsynth"): "fluidsynth",
}

# Endgame: Singularity soundtrack by Max McCracken, 48 kHz stereo Ogg Vorbis.
MUSIC = [  # short name, split, file, start (s), length (s)
    ("awakening", "train", "Awakening.ogg", 60.0, 8.0),
    ("deprecation", "train", "Deprecation.ogg", 40.0, 8.0),
    ("through-space", "train", "Through Space.ogg", 90.0, 8.0),
    ("coherence", "train", "Coherence.ogg", 100.0, 8.0),
    ("media-threat", "heldout", "Media Threat.ogg", 60.0, 8.0),
    ("nebula", "heldout", "Nebula.ogg", 60.0, 8.0),
]
# Sonic Pi samples (from freesound.org), 44.1 kHz; the first 5 s at most of each.
INSTRUMENTS = [  # short name, split, file, description
    ("piano", "train", "ambi_piano.flac", "piano (Sonic Pi ambient set)"),
    ("guitar-harmonics", "train", "guit_harmonics.flac", "guitar harmonics"),
    ("guitar-slide", "train", "guit_e_slide.flac", "guitar slide on E"),
    ("drum-roll", "train", "drum_roll.flac", "drum roll"),
    ("cymbal-open", "train", "drum_cymbal_open.flac", "open cymbal (drum kit)"),
    ("splash-cymbal", "train", "drum_splash_hard.flac", "splash cymbal, hard (drum kit)"),
    ("guitar-fifths", "heldout", "guit_e_fifths.flac", "guitar fifths on E"),
    ("tabla-loop", "heldout", "loop_tabla.flac", "tabla loop"),
    ("bell", "heldout", "perc_bell.flac", "bell (percussion)"),
]
INSTRUMENT_SECONDS = 5.0
# Asterisk prompts spoken by Allison Smith, 8 kHz mono 16-bit WAV: (prompt, split).
SPEECH = [
    ("at-tone-time-exactly", "train"),
    ("cannot-complete-as-dialed", "train"),
    ("conf-onlyperson", "train"),
    ("vm-rec-busy", "train"),
    ("tt-monkeysintro", "train"),
    ("pbx-invalidpark", "heldout"),
    ("vm-sorry", "heldout"),
    ("something-terribly-wrong", "heldout"),
]
# music21 corpus works: short name, split, file in music21/corpus/, tune number in
# an ABC collection (or None), GM program (0-based), quarter notes per minute, description.
SCORES = [
    ("bach-bwv66-6-piano", "train", "bach/bwv66.6.mxl", None, 0, 80, "J.S. Bach, BWV 66.6, piano"),
    ("bach-bwv4-8-organ", "train", "bach/bwv4.8.mxl", None, 19, 80, "J.S. Bach, BWV 4.8, organ"),
    (
        "oneills-fare-you-well-flute",
        "train",
        "oneills1850/0001-0050.abc",
        2,
        73,
        72,
        "'Fare You Well', no. 2 of O'Neill's Music of Ireland (1903), flute",
    ),
    (
        "ryans-acacia-reel-clarinet",
        "train",
        "ryansMammoth/AcaciaReel.abc",
        None,
        71,
        100,
        "'Acacia Reel' from Ryan's Mammoth Collection (1883), clarinet",
    ),
    ("bach-bwv269-strings", "heldout", "bach/bwv269.mxl", None, 48, 80, "J.S. Bach, BWV 269, strings"),
    (
        "ryans-acrobats-hornpipe-violin",
        "heldout",
        "ryansMammoth/AcrobatsHornpipe.abc",
        None,
        40,
        100,
        "'Acrobat's Hornpipe' from Ryan's Mammoth Collection (1883), violin",
    ),
]
SCORE_SECONDS = 8.0


def check_requirements():
    """Stop with a clear message naming any missing Debian package."""
    missing = [f"{pkg} (provides {path})" for path, pkg in APT_FILES.items() if not path.exists()]
    if missing:
        sys.exit(
            "make_samples.py: missing apt package(s):\n  "
            + "\n  ".join(missing)
            + "\nInstall with the apt-get command in this file's docstring."
        )


def mono(path):
    """Read a sound file and average its channels: (samples,) float64 and rate."""
    audio, sr = sf.read(path, always_2d=True)
    return audio.mean(axis=1), sr


def resample(x, sr_in, sr_out):
    """Polyphase resampling by sr_out / sr_in (scipy reduces the fraction)."""
    return resample_poly(x, sr_out, sr_in)


def cut(x, sr, start, length):
    """Samples [start, start + length) seconds, or up to the end if shorter."""
    a = int(round(start * sr))
    return x[a : a + int(round(length * sr))]


def finish(x, sr):
    """Fade the edges, peak-normalise to -1 dBFS, quantise to 16-bit integers."""
    x = np.asarray(x, dtype=np.float64).copy()
    n = int(round(FADE_S * sr))
    ramp = np.linspace(0.0, 1.0, n)
    x[:n] *= ramp
    x[-n:] *= ramp[::-1]
    x *= 10 ** (PEAK_DBFS / 20) / np.max(np.abs(x))
    return np.round(x * 32767).astype(np.int16)


def sonicpi_licences():
    """Map sample file name to (licence, copyright, URL) from the Debian copyright file."""
    table = {}
    for para in SONICPI_COPYRIGHT.read_text().split("\n\n"):
        lic = re.search(r"^License:\s*(\S+)", para, re.M)
        who = re.search(r"^Copyright:\s*([^<\n]+)", para, re.M)  # drop e-mail
        url = re.search(r"^Source:\s*(\S+)", para, re.M)
        for name in re.findall(r"etc/samples/(\S+\.flac)", para):
            table[name] = tuple(m.group(1).strip() if m else "" for m in (lic, who, url))
    return table


def allison_transcripts():
    """Map prompt name to transcript, from core-sounds-en.txt ('name: text')."""
    with gzip.open(ALLISON_TEXT, "rt", encoding="utf-8") as f:
        pairs = [line.split(":", 1) for line in f if ":" in line and not line.startswith(";")]
    return {name.strip(): text.strip() for name, text in pairs}


def end_with_all_sound_off(midi_file):
    """End each track with All Sound Off (controller 120) on its channels: FluidSynth
    2.3.1 renders on while any voice sounds, and some files leave one on forever."""
    for track in midi_file.tracks:
        channels = sorted({e.channel for e in track.events if e.isNoteOn()})
        end_of_track = track.events.pop()  # the list ends: ..., DeltaTime, END_OF_TRACK
        for ch in channels:
            off = midi.MidiEvent(track, type=midi.ChannelVoiceMessages.CONTROLLER_CHANGE, channel=ch)
            off.parameter1, off.parameter2 = 120, 0
            track.events += [off, midi.DeltaTime(track, time=0)]
        track.events.append(end_of_track)


def render_score(path, number, program, bpm, workdir):
    """Parse a corpus work, give every part one GM instrument and one tempo,
    write it as MIDI and render that with FluidSynth; return mono (audio, sr)."""
    score = corpus.parse(path, number=number) if number else corpus.parse(path)
    for old in list(score.recurse().getElementsByClass(["Instrument", "MetronomeMark"])):
        old.activeSite.remove(old)
    for part in score.parts:
        part.insert(0, instrument.instrumentFromMidiProgram(program))
    score.parts[0].insert(0, tempo.MetronomeMark(number=bpm))
    midi_file = midi.translate.streamToMidiFile(score)  # what score.write("midi") uses
    end_with_all_sound_off(midi_file)
    mid, wav = Path(workdir) / "score.mid", Path(workdir) / "score.wav"
    mid.write_bytes(midi_file.writestr())
    subprocess.run(
        ["fluidsynth", "-ni", "-F", str(wav), "-r", str(MUSIC_SR), "-g", "0.6", str(SOUNDFONT), str(mid)],
        timeout=60,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return mono(wav)


def main():
    check_requirements()
    rows = []  # one metadata row per clip

    def save(kind, short, split, audio, sr, source, licence, description, transcript=""):
        name = f"{split}/{kind}_{short}.flac"
        pcm = finish(audio, sr)
        sf.write(OUT / name, pcm, sr, format="FLAC", subtype="PCM_16")
        rows.append([name, split, kind, source, licence, f"{len(pcm) / sr:.3f}", sr, description, transcript])
        print(f"{name:60s} {len(pcm) / sr:5.2f} s")

    for split in ("train", "heldout"):  # start empty: renamed clips leave nothing behind
        shutil.rmtree(OUT / split, ignore_errors=True)
        (OUT / split).mkdir(parents=True)

    for short, split, fname, start, length in MUSIC:
        audio, sr = mono(SINGULARITY / fname)
        audio = resample(cut(audio, sr, start, length), sr, MUSIC_SR)
        save(
            "recorded-music",
            short,
            split,
            audio,
            MUSIC_SR,
            f"Debian singularity-music: {SINGULARITY / fname}",
            "CC-BY-SA-3.0",
            f"'{fname[:-4]}' by Max McCracken (Endgame: Singularity soundtrack), "
            f"{start:.0f}-{start + length:.0f} s; mono mix, resampled 48 to 44.1 kHz",
        )

    licences = sonicpi_licences()
    for short, split, fname, desc in INSTRUMENTS:
        lic, who, url = licences.get(fname, ("unlisted", "", ""))
        if lic != "CC0":  # only CC0 samples may be used
            sys.exit(f"{fname} is {lic}, not CC0, in {SONICPI_COPYRIGHT}")
        audio, sr = mono(SONICPI / fname)
        audio = resample(cut(audio, sr, 0.0, INSTRUMENT_SECONDS), sr, MUSIC_SR)
        save(
            "instrument",
            short,
            split,
            audio,
            MUSIC_SR,
            f"Debian sonic-pi-samples: {SONICPI / fname}",
            "CC0-1.0",
            f"{desc}; freesound.org, copyright {who}, {url}; mono mix",
        )

    transcripts = allison_transcripts()
    for prompt, split in SPEECH:
        audio, sr = mono(ALLISON / f"{prompt}.wav")
        save(
            "speech",
            prompt,
            split,
            audio,
            sr,
            f"Debian asterisk-core-sounds-en-wav: {ALLISON / prompt}.wav",
            "CC-BY-SA-3.0",
            "telephone prompt spoken by Allison Smith, native 8 kHz",
            transcripts[prompt],
        )

    with tempfile.TemporaryDirectory() as workdir:
        for short, split, path, number, program, bpm, desc in SCORES:
            audio, sr = render_score(path, number, program, bpm, workdir)
            audio = cut(audio, sr, 0.0, SCORE_SECONDS)
            where = f"music21/corpus/{path}" + (f" (tune {number})" if number else "")
            save(
                "rendered-score",
                short,
                split,
                audio,
                sr,
                f"PyPI music21 {music21.__version__}: {where}; rendered with Debian "
                f"fluidsynth and fluidr3mono-gm-soundfont: {SOUNDFONT}",
                "public domain (work); MIT (soundfont)",
                f"{desc} (GM program {program}), quarter = {bpm}, first {SCORE_SECONDS:g} s",
            )

    with open(OUT / "metadata.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            ["file", "split", "kind", "source", "licence", "seconds", "sample_rate", "description", "transcript"]
        )
        w.writerows(sorted(rows))
    print(f"wrote {len(rows)} clips and {OUT / 'metadata.csv'}")


if __name__ == "__main__":
    main()
