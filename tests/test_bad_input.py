"""A corpus of bad and awkward input, built here, run through every command that reads a file.

Each case must end in one of two ways: handled correctly (exit 0, a sensible output), or one line
on stderr starting "minidcae: error:" and exit status 2. Never a traceback, never exit 1 (which
the command keeps for its own bugs), never a half-written output file.
"""

import json
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from minidcae.cli.main import main
from minidcae.core.checkpoint import load_tensors, save_model, save_tensors
from minidcae.core.config import (
    DATA_SAMPLES,
    SHIPPED_CLASSIFIER,
    SHIPPED_DCAE,
    SHIPPED_MELODY_TRANSFORMER,
    SHIPPED_TRANSFORMER,
    SHIPPED_VOCODER,
    DCAEConfig,
)
from minidcae.models.dcae import DCAE

SR = 22050
BWV269 = DATA_SAMPLES / "melodies" / "bwv269.mid"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    t = np.arange(2 * SR) / SR
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    sf.write(d / "good.wav", tone, SR)
    data = (d / "good.wav").read_bytes()
    (d / "truncated.wav").write_bytes(data[: len(data) // 3 - 7])  # header promises more than is there
    (d / "text.wav").write_text("this is not audio\n" * 20)
    (d / "empty.wav").write_bytes(b"")
    nan = tone.copy()
    nan[1000:1100] = np.nan
    sf.write(d / "nan.wav", nan, SR, subtype="FLOAT")  # 16-bit PCM cannot hold a NaN; float WAV can
    sf.write(d / "ten_ms.wav", tone[: SR // 100], SR)
    t8 = np.arange(3 * 8000) / 8000
    sf.write(d / "8k_stereo.wav", np.stack([np.sin(2 * np.pi * 300 * t8), np.sin(2 * np.pi * 500 * t8)], 1) * 0.3, 8000)
    t96 = np.arange(2 * 96000) / 96000
    sf.write(d / "96k_24bit.wav", 0.3 * np.sin(2 * np.pi * 440 * t96), 96000, subtype="PCM_24")
    t10 = np.arange(600 * SR) / SR
    sf.write(d / "ten_minutes.wav", (0.2 * np.sin(2 * np.pi * 220 * t10)).astype(np.float32), SR)
    # checkpoints: weights that do not fit the config beside them, a valid DCAE of another config,
    # a corrupted file, and a pickle in disguise
    tensors, meta = load_tensors(SHIPPED_DCAE)
    save_tensors(
        d / "mismatched.safetensors", tensors, {**meta, "config": {**meta["config"], "widths": [8, 16, 32, 64]}}
    )
    cfg = DCAEConfig(widths=(8, 8, 8, 8), latent_channels=4, time_factor=4)
    save_model(d / "other_config", DCAE(cfg), "dcae", cfg)
    raw = SHIPPED_DCAE.read_bytes()
    (d / "corrupt.safetensors").write_bytes(raw[: len(raw) // 2])
    (d / "pickled.safetensors").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    return d


AUDIO = ["text.wav", "empty.wav", "nan.wav", "ten_ms.wav"]
HANDLED = ["8k_stereo.wav", "96k_24bit.wav"]
CHECKPOINTS = ["mismatched.safetensors", "corrupt.safetensors", "pickled.safetensors"]


def run(args, capsys):
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code in (0, 2), f"{args}: exit {code}: {err}"
    if code == 2:
        assert err.startswith("minidcae: error: ") and "\n" not in err, err
    return code, err


def commands_on_audio(path, out):
    ckpt = str(SHIPPED_DCAE)
    return [
        ["reconstruct", str(path), str(out / "r.wav"), "--iters", "2"],
        ["reconstruct", str(path), str(out / "r.wav"), "--checkpoint", ckpt, "--iters", "2"],
        [
            "reconstruct",
            str(path),
            str(out / "r.wav"),
            "--vocoder",
            "neural",
            "--vocoder-checkpoint",
            str(SHIPPED_VOCODER),
        ],
        ["encode", str(path), str(out / "z.safetensors"), "--checkpoint", ckpt],
    ]


def decode_args(out, iters):
    """decode out/z.safetensors (what encode wrote there) to out/d.wav with the shipped DCAE."""
    return [
        "decode",
        str(out / "z.safetensors"),
        str(out / "d.wav"),
        "--checkpoint",
        str(SHIPPED_DCAE),
        "--iters",
        str(iters),
    ]


@pytest.mark.parametrize("name", AUDIO)
def test_bad_audio_fails_in_one_line_naming_the_file_and_writes_nothing(corpus, name, tmp_path, capsys):
    for args in commands_on_audio(corpus / name, tmp_path):
        code, err = run(args, capsys)
        assert code == 2 and name in err, (args, err)
    assert list(tmp_path.iterdir()) == []
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / name).write_bytes((corpus / name).read_bytes())
    code, err = run(
        ["evaluate", "--checkpoint", str(SHIPPED_DCAE), "--data", str(folder), "--out", str(tmp_path / "e.json")],
        capsys,
    )
    assert code == 2 and name in err and not (tmp_path / "e.json").exists()


@pytest.mark.parametrize("name", HANDLED)
def test_other_rates_channels_and_depths_are_converted(corpus, name, tmp_path, capsys):
    seconds = sf.info(corpus / name).duration
    for args in commands_on_audio(corpus / name, tmp_path):
        assert run(args, capsys)[0] == 0, args
    out, rate = sf.read(tmp_path / "r.wav")
    assert rate == SR and out.ndim == 1 and abs(len(out) / SR - seconds) < 0.02
    assert run(decode_args(tmp_path, 2), capsys)[0] == 0


def test_a_truncated_wav_is_read_as_far_as_it_goes(corpus, tmp_path, capsys):
    # the header promises 2 s; libsndfile returns the whole frames that are there, and so do we,
    # with one line on stderr saying that the file ended early
    for args in commands_on_audio(corpus / "truncated.wav", tmp_path):
        code, err = run(args, capsys)
        assert code == 0, args
        assert err.startswith("warning: ") and "truncated.wav: file ends early" in err and "\n" not in err, (args, err)
    assert 0.5 < sf.info(tmp_path / "r.wav").duration < 1.0


def test_load_audio_warns_in_one_line_when_a_wav_ends_early_and_returns_what_is_there(corpus, tmp_path, capsys):
    from minidcae.sound.audio_files import load_audio

    wav = load_audio(corpus / "truncated.wav", SR)
    err = capsys.readouterr().err
    frames = sf.info(corpus / "truncated.wav").frames  # what libsndfile finds: fewer than the header's 2 s
    assert err == f"warning: {corpus / 'truncated.wav'}: file ends early: header says {2 * SR} frames, {frames} read\n"
    assert wav.shape == (1, frames) and frames < SR
    good = load_audio(corpus / "good.wav", SR)
    assert good.shape == (1, 2 * SR) and capsys.readouterr().err == ""  # a whole file says nothing
    # chunks before the data (an odd-sized one, padded to even) and a float WAV's longer fmt chunk
    # do not confuse the header reader
    data = (corpus / "good.wav").read_bytes()  # RIFF header (12 bytes), fmt chunk (24), data chunk
    extra = b"LIST" + (5).to_bytes(4, "little") + b"INFOx" + b"\0"
    (tmp_path / "listed.wav").write_bytes(
        data[:4]
        + (int.from_bytes(data[4:8], "little") + len(extra)).to_bytes(4, "little")
        + data[8:36]
        + extra
        + data[36:]
    )
    sf.write(tmp_path / "float.wav", np.zeros((SR, 3), dtype=np.float32), SR, subtype="FLOAT")
    assert load_audio(tmp_path / "listed.wav", SR).shape == (1, 2 * SR)
    assert load_audio(tmp_path / "float.wav", SR).shape == (1, SR) and capsys.readouterr().err == ""
    (tmp_path / "listed_cut.wav").write_bytes((tmp_path / "listed.wav").read_bytes()[: -2 * SR])  # half of it
    assert load_audio(tmp_path / "listed_cut.wav", SR).shape == (1, SR)
    assert f"header says {2 * SR} frames, {SR} read" in capsys.readouterr().err


def test_a_ten_minute_file_goes_through_in_bounded_windows(corpus, tmp_path, capsys):
    path = corpus / "ten_minutes.wav"
    assert (
        run(["encode", str(path), str(tmp_path / "z.safetensors"), "--checkpoint", str(SHIPPED_DCAE)], capsys)[0] == 0
    )
    assert run(decode_args(tmp_path, 1), capsys)[0] == 0
    assert abs(sf.info(tmp_path / "d.wav").duration - 600) < 0.1


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_bad_checkpoints_fail_in_one_line_everywhere(corpus, name, tmp_path, capsys):
    ckpt, audio = str(corpus / name), str(corpus / "good.wav")
    cases = [
        ["reconstruct", audio, str(tmp_path / "r.wav"), "--checkpoint", ckpt],
        ["reconstruct", audio, str(tmp_path / "r.wav"), "--vocoder", "neural", "--vocoder-checkpoint", ckpt],
        ["encode", audio, str(tmp_path / "z.safetensors"), "--checkpoint", ckpt],
        ["decode", ckpt, str(tmp_path / "d.wav"), "--checkpoint", str(SHIPPED_DCAE)],
        ["evaluate", "--checkpoint", ckpt, "--data", str(corpus), "--out", str(tmp_path / "e.json")],
        ["generate", "happy piano", str(tmp_path / "g.wav"), "--checkpoint", ckpt],
        ["generate", "happy piano", str(tmp_path / "g.wav"), "--autoencoder", ckpt],
        ["generate", "happy piano", str(tmp_path / "g.wav"), "--vocoder", "neural", "--vocoder-checkpoint", ckpt],
        [
            "edit",
            audio,
            str(tmp_path / "e.wav"),
            "--extend",
            "1",
            "--prompt",
            "sad violin",
            "--vocoder",
            "neural",
            "--vocoder-checkpoint",
            ckpt,
        ],
        ["train-transformer", "--profile", "ci", "--out", str(tmp_path / "transformer"), "--autoencoder", ckpt],
        ["search", "happy piano", "--data", str(corpus), "--checkpoint", ckpt],
        ["train-melody", "--profile", "ci", "--out", str(tmp_path / "melody"), "--init", ckpt],
        ["distill", "--profile", "ci", "--out", str(tmp_path / "distill"), "--teacher", ckpt],
        ["evaluate-melody", "--profile", "ci", "--checkpoint", ckpt],
        ["evaluate-melody", "--profile", "ci", "--checkpoint", str(SHIPPED_MELODY_TRANSFORMER), "--text", ckpt],
        ["generate", "happy piano", str(tmp_path / "g.wav"), "--lora", ckpt, "--steps", "2"],
    ]
    for args in cases:
        code, err = run(args, capsys)
        assert code == 2 and name in err, (args, err)
    assert not any(p.suffix in (".wav", ".json", ".safetensors") for p in tmp_path.rglob("*"))


def test_a_valid_checkpoint_of_another_config_is_refused_where_it_does_not_fit(corpus, tmp_path, capsys):
    other, audio = str(corpus / "other_config.safetensors"), str(corpus / "good.wav")
    assert run(["encode", audio, str(tmp_path / "z.safetensors"), "--checkpoint", str(SHIPPED_DCAE)], capsys)[0] == 0
    for args, says in (
        (["decode", str(tmp_path / "z.safetensors"), str(tmp_path / "d.wav"), "--checkpoint", other], "latent"),
        (["generate", "happy piano", str(tmp_path / "g.wav"), "--autoencoder", other], "autoencoder"),
        (["reconstruct", audio, str(tmp_path / "r.wav"), "--vocoder", "neural", "--vocoder-checkpoint", other], "dcae"),
    ):
        code, err = run(args, capsys)
        assert code == 2 and says in err, (args, err)
    assert (
        run(["reconstruct", audio, str(tmp_path / "r.wav"), "--checkpoint", other, "--iters", "2"], capsys)[0] == 0
    )  # it fits here


def test_a_checkpoint_of_the_wrong_kind_says_what_it_holds(tmp_path, capsys):
    code, err = run(
        ["reconstruct", str(SHIPPED_TRANSFORMER.with_name("vocoder.safetensors")), str(tmp_path / "r.wav")], capsys
    )
    assert code == 2  # a checkpoint is not audio
    code, err = run(
        ["generate", "sad violin", str(tmp_path / "g.wav"), "--checkpoint", str(SHIPPED_CLASSIFIER)], capsys
    )
    assert code == 2 and "label_classifier" in err
    code, err = run(["distill", "--profile", "ci", "--out", str(tmp_path / "d"), "--pairs", "0"], capsys)
    assert code == 2 and "--pairs" in err
    code, err = run(
        ["distill", "--profile", "ci", "--out", str(tmp_path / "d"), "--teacher", str(SHIPPED_MELODY_TRANSFORMER)],
        capsys,
    )
    assert code == 2 and "text-only" in err
    for args in (
        ["evaluate-melody", "--profile", "ci", "--checkpoint", str(SHIPPED_TRANSFORMER)],
        [
            "generate",
            "sad violin",
            str(tmp_path / "g.wav"),
            "--checkpoint",
            str(SHIPPED_TRANSFORMER),
            "--melody",
            str(BWV269),
        ],
    ):
        code, err = run(args, capsys)
        assert code == 2 and "trained without a melody" in err and "\n" not in err.strip(), (args, err)
    assert not (tmp_path / "g.wav").exists()
    code, err = run(["search", "sad violin", "--data", str(tmp_path), "--checkpoint", str(SHIPPED_CLASSIFIER)], capsys)
    assert code == 2  # tmp_path holds no audio yet
    sf.write(tmp_path / "a.wav", np.zeros(SR, dtype=np.float32), SR)
    code, err = run(["search", "sad violin", "--data", str(tmp_path), "--checkpoint", str(SHIPPED_CLASSIFIER)], capsys)
    assert code == 2 and "label_classifier" in err


def test_search_refuses_bad_folders_prompts_and_counts_in_one_line(corpus, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no audio here\n")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "text.wav").write_bytes((corpus / "text.wav").read_bytes())
    for args, says in (
        (["search", "happy piano", "--data", str(tmp_path / "missing")], "missing"),
        (["search", "happy piano", "--data", str(tmp_path / "empty")], "no audio"),
        (["search", "happy piano", "--data", str(tmp_path / "notes")], "no audio"),
        (["search", "happy piano", "--data", str(corpus), "--top", "0"], "--top"),
        (["search", "happy kazoo, loud", "--data", str(corpus)], "kazoo, loud"),
        (["search", "happy piano", "--data", str(tmp_path / "bad")], "text.wav"),
        (["train-clap", "--profile", "ci", "--out", str(tmp_path / "clap"), "steps=many"], "steps"),
        (["train-clap", "--profile", "ci", "--out", str(tmp_path / "clap"), "colour=red"], "colour"),
    ):
        code, err = run(args, capsys)
        assert code == 2 and says in err, (args, err)
    assert not (tmp_path / "clap").exists()


def test_search_prints_one_line_per_result_best_first(corpus, tmp_path, capsys):
    for name in ("good.wav", "8k_stereo.wav", "96k_24bit.wav"):
        (tmp_path / name).write_bytes((corpus / name).read_bytes())
    assert main(["search", "happy piano", "--data", str(tmp_path), "--top", "5"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["1", "2", "3"]  # --top 5 of 3 files: all three
    scores = [float(line.split()[1]) for line in lines]
    assert scores == sorted(scores, reverse=True) and {line.split()[2] for line in lines} == {
        str(tmp_path / n) for n in ("good.wav", "8k_stereo.wav", "96k_24bit.wav")
    }


def _midi_file(path, notes):
    """A one-track standard MIDI file at 120 bpm: notes [(start tick, stop tick, note, channel)], 480 ticks a beat."""
    import mido

    midi, track, last = mido.MidiFile(type=1, ticks_per_beat=480), mido.MidiTrack(), 0
    events = sorted([(a, 1, n, c) for a, _, n, c in notes] + [(b, 0, n, c) for _, b, n, c in notes])
    for tick, on, note, channel in events:
        track.append(mido.Message("note_on", note=note, velocity=90 * on, channel=channel, time=tick - last))
        last = tick
    midi.tracks.append(track)
    midi.save(str(path))
    return path


def test_bad_melody_files_fail_in_one_line_before_any_model_loads_and_write_nothing(tmp_path, capsys):
    from minidcae.core.config import DATA_SAMPLES

    chorale = DATA_SAMPLES / "melodies" / "bwv269.mid"
    (tmp_path / "text.mid").write_text("MThd? no, just text\n" * 10)
    (tmp_path / "empty.mid").write_bytes(b"")
    _midi_file(tmp_path / "no_notes.mid", [])
    _midi_file(tmp_path / "drums.mid", [(0, 480, 36, 9), (480, 960, 38, 9)])  # channel 10: percussion only
    out = tmp_path / "out" / "OUT.wav"
    out.parent.mkdir()
    for melody, extra, says in (
        (tmp_path / "missing.mid", [], "no such MIDI file"),
        (tmp_path / "text.mid", [], "not a standard MIDI file"),
        (tmp_path / "empty.mid", [], "not a standard MIDI file"),
        (tmp_path / "no_notes.mid", [], "no melodic notes"),
        (tmp_path / "drums.mid", [], "no melodic notes"),
        (chorale, ["--melody-track", "9"], "--melody-track 9 does not exist; the file has tracks 0..4"),
    ):
        code, err = run(["generate", "happy violin", str(out), "--melody", str(melody), *extra], capsys)
        assert code == 2 and str(melody) in err and says in err, (melody, err)
        assert list(out.parent.iterdir()) == [], melody  # no OUT.wav, nor a temp file beside it


def test_loading_never_unpickles(monkeypatch):
    from minidcae.models.dcae import load_autoencoder
    from minidcae.models.transformer import load_transformer

    def refuse(*args, **kwargs):
        raise AssertionError("something tried to unpickle")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    load_autoencoder(SHIPPED_DCAE)
    load_transformer(SHIPPED_TRANSFORMER)


def test_training_killed_with_sigkill_resumes_losing_at_most_one_interval(tmp_path, train_ae_cli):
    out = tmp_path / "ae"
    args, env = train_ae_cli
    cmd = [sys.executable, *args(out, "steps=400", "checkpoint_every=10", "adv_steps=0", "--skip-eval")]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = out / "phase1" / "state.safetensors"
    deadline = time.time() + 120
    while time.time() < deadline and not (
        state.exists()
        and json.loads((out / "phase1" / "log.json").read_text() or "[]")[-1:]
        and json.loads((out / "phase1" / "log.json").read_text())[-1]["step"] >= 30
    ):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    from minidcae.core.checkpoint import load_tensors

    # every file left behind loads: no half-written checkpoint (writes go to a temp file, then rename)
    _, meta = load_tensors(state)
    saved = meta["step"]
    assert saved % 10 == 0 and saved >= 30
    resumed = subprocess.run(
        cmd[:-4] + ["steps=" + str(saved + 20), "checkpoint_every=10", "adv_steps=0", "--skip-eval", "--resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-1500:]
    log = json.loads((out / "phase1" / "log.json").read_text())
    assert log[-1]["step"] == saved + 20  # it went on from the last checkpoint: at most one interval lost


def test_bad_edits_fail_in_one_line_and_write_nothing(corpus, tmp_path, capsys):
    good = str(corpus / "good.wav")  # 2 s
    out = tmp_path / "out" / "OUT.wav"
    out.parent.mkdir()
    for extra, says in (
        (["--repaint", "1.5:3"], "outside the clip (0 to 2.00 s)"),
        (["--repaint=-1:1"], "outside the clip"),
        (["--repaint", "1:1"], "empty"),
        (["--repaint", "1.2:0.5"], "empty"),
        (["--repaint", "abc"], "START:END"),
        (["--extend", "-1"], "positive number of seconds"),
        (["--extend", "0"], "positive number of seconds"),
        (["--extend", "0.01"], "at least one latent frame"),
        (["--extend", "0.5", "--margin", "-1"], "--margin -1: give the crossfade as 0 or more"),
        (["--repaint", "0.5:1", "--strength", "1.5"], "--strength 1.5: give a repaint strength between 0 and 1"),
        (["--repaint", "0.5:1", "--strength", "nan"], "--strength nan"),
        (["--extend", "0.5", "--strength", "0.5"], "an extension always starts from noise"),
        (["--extend", "0.5", "--vocoder-checkpoint", str(SHIPPED_VOCODER)], "only used with --vocoder neural"),
        (
            [
                "--extend",
                "0.5",
                "--vocoder",
                "neural",
                "--vocoder-checkpoint",
                str(corpus / "other_config.safetensors"),
            ],
            "dcae",
        ),
        (["--extend", "0.5", "--vocoder", "neural", "--vocoder-checkpoint", str(corpus / "gone.safetensors")], "gone"),
    ):
        code, err = run(["edit", good, str(out), *extra, "--prompt", "sad violin", "--steps", "2"], capsys)
        assert code == 2 and says in err, (extra, err)
        assert list(out.parent.iterdir()) == [], extra  # no OUT.wav, nor a temp file beside it
    code, err = run(["edit", good, str(out), "--repaint", "0.5:1", "--prompt", "sad banjo", "--steps", "2"], capsys)
    assert code == 2 and "unknown word" in err and list(out.parent.iterdir()) == []
    code, err = run(["edit", good, str(out), "--extend", "0.5", "--prompt", "sad violin", "--steps", "2"], capsys)
    assert code == 0 and out.exists()


def test_edit_says_which_vocoder_it_takes_in_one_line(corpus, tmp_path, capsys):
    good, out = str(corpus / "good.wav"), tmp_path / "OUT.wav"
    with pytest.raises(SystemExit) as stop:  # argparse refuses a vocoder it does not know, with exit status 2
        main(["edit", good, str(out), "--extend", "0.5", "--prompt", "sad violin", "--vocoder", "hifigan"])
    assert stop.value.code == 2 and "--vocoder: invalid choice: 'hifigan'" in capsys.readouterr().err
    assert not out.exists()


def test_edit_with_the_neural_vocoder_voices_the_same_edit(corpus, tmp_path, capsys):
    """--vocoder neural turns the same edited log-mel into sound: the clip Griffin-Lim voices, as long, its mel
    within a few dB (an edit of another prompt and seed sits further away), yet another waveform."""
    from minidcae.core.config import MelConfig
    from minidcae.measure.spectral import log_mel_l1_db
    from minidcae.sound.audio_files import load_audio

    good, wavs = str(corpus / "good.wav"), {}
    for name, extra in (("gl", []), ("neural", ["--vocoder", "neural"]), ("other", ["--seed", "5"])):
        prompt = "happy piano" if name == "other" else "sad violin"
        args = ["edit", good, str(tmp_path / f"{name}.wav"), "--extend", "0.5", "--prompt", prompt, "--steps", "2"]
        assert run(args + extra, capsys)[0] == 0
        wavs[name] = load_audio(tmp_path / f"{name}.wav")  # (1, samples)
    assert wavs["neural"].shape == wavs["gl"].shape and (wavs["neural"] - wavs["gl"]).abs().max() > 1e-2
    same_edit, other_edit = (log_mel_l1_db(wavs["gl"], wavs[k], MelConfig()) for k in ("neural", "other"))
    assert same_edit < 6.0 and same_edit < other_edit, (same_edit, other_edit)


def test_a_unet_skip_autoencoder_is_refused_in_one_line_wherever_latents_are_decoded_alone(corpus, tmp_path, capsys):
    # notebook 13's DCAE with U-Net skips cannot decode a latent without the encoder's feature maps
    skip = str(DATA_SAMPLES / "checkpoints" / "claims" / "dcae_skips.safetensors")
    good = str(corpus / "good.wav")
    out = tmp_path / "out"
    out.mkdir()
    latent = tmp_path / "z.safetensors"
    assert run(["encode", good, str(latent), "--checkpoint", str(SHIPPED_DCAE)], capsys)[0] == 0
    for args in (
        ["reconstruct", good, str(out / "r.wav"), "--checkpoint", skip, "--iters", "2"],
        ["reconstruct", good, str(out / "r.wav"), "--checkpoint", skip, "--vocoder", "neural"],
        ["encode", good, str(out / "z.safetensors"), "--checkpoint", skip],
        ["decode", str(latent), str(out / "d.wav"), "--checkpoint", skip],
        ["evaluate", "--checkpoint", skip, "--data", str(corpus), "--out", str(out / "e.json")],
        ["generate", "happy piano", str(out / "g.wav"), "--autoencoder", skip, "--steps", "2"],
        ["edit", good, str(out / "e.wav"), "--extend", "0.5", "--prompt", "sad violin", "--autoencoder", skip],
        ["train-transformer", "--profile", "ci", "--out", str(out / "t"), "--autoencoder", skip],
    ):
        code, err = run(args, capsys)
        assert code == 2 and skip in err and "U-Net skips" in err and "\n" not in err.strip(), (args, err)
        assert list(out.iterdir()) == [], args  # nothing written, not even a run folder


def test_a_guidance_interval_or_decay_outside_0_1_fails_in_one_line_before_any_model_loads(tmp_path, capsys):
    out = tmp_path / "OUT.wav"
    missing = str(tmp_path / "no_such_transformer.safetensors")  # never read: the window is refused first
    for flag, value in (("--guidance-interval", "1.5"), ("--guidance-interval", "-0.1"), ("--guidance-decay", "2")):
        assert main(["generate", "happy piano", str(out), flag, value, "--checkpoint", missing]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        name = flag.removeprefix("--").replace("-", " ")
        assert len(err) == 1 and f"{name} {float(value):g} is not between 0 and 1" in err[0], err
        assert not out.exists()


def test_bad_lora_input_fails_in_one_line_and_writes_nothing(tmp_path, capsys):
    """train-lora: an empty folder, too few or too short clips, a word the model knows, a rank of 0; generate --lora:
    an adapter made for another model (its base hash differs), a file that is not an adapter."""
    import torch

    from minidcae.models import lora
    from minidcae.models.transformer import load_transformer
    from minidcae.sound.synth import write_dataset

    (tmp_path / "empty").mkdir()
    write_dataset(tmp_path / "short", 8, 1.0, 0, instrument="bell")  # 1 s clips: ci crops 2 s
    write_dataset(tmp_path / "three", 3, 3.0, 0, instrument="bell")
    write_dataset(tmp_path / "bell", 4, 3.0, 0, instrument="bell")
    out = tmp_path / "out"
    for clips, extra, says in (
        ("empty", [], "no audio files"),
        ("missing", [], "no such folder"),
        ("three", [], "3 clip(s); train-lora needs at least 4"),
        ("short", [], "clip_00000.wav: 1.00 s; train-lora crops 2 s"),
        ("bell", ["--word", "piano"], "--word piano: already in the model's vocabulary"),
        ("bell", ["--word", "Two Words"], "--word 'Two Words': give one lower-case word"),
        ("bell", ["--rank", "0"], "--rank 0: a LoRA rank is 1 or more"),
        ("bell", ["steps=many"], "steps"),
        ("bell", ["--layers", "attn.key"], "layers attn.key: no linear layer"),
    ):
        args = ["train-lora", "--profile", "ci", "--clips", str(tmp_path / clips), "--out", str(out)]
        args += extra if "--word" in extra else ["--word", "bell", *extra]
        code, err = run(args, capsys)
        assert code == 2 and says in err, (clips, extra, err)
        assert not out.exists(), (clips, extra)
    model, _ = load_transformer(SHIPPED_TRANSFORMER)
    lora.add_lora(model, rank=1)
    lora.add_words(model, ["bell"])
    adapter = lora.save_adapter(tmp_path / "lora_bell", model, {"base": {"name": SHIPPED_TRANSFORMER.name}})
    other = DATA_SAMPLES / "checkpoints" / "dit_fast.safetensors"  # a transformer of the same shape, other weights
    g = out / "g.wav"
    out.mkdir()
    for extra, says in (
        (["--checkpoint", str(other)], "made for another model"),
        ([], None),  # on its own base it loads, and its word is read
    ):
        code, err = run(["generate", "happy bell", str(g), "--lora", str(adapter), "--steps", "2", *extra], capsys)
        if says:
            assert code == 2 and says in err and str(adapter) in err and not g.exists(), err
        else:
            assert code == 0 and g.exists(), err
    code, err = run(["generate", "happy bell", str(g), "--lora", str(adapter), "--lora", str(adapter)], capsys)
    assert code == 2 and f"{adapter}: teaches bell, which the model reads already" in err  # one adapter per word
    code, err = run(["generate", "happy bell", str(out / "h.wav"), "--steps", "2"], capsys)
    assert code == 2 and "unknown word(s) ['bell']" in err  # the base model alone refuses the word
    code, err = run(["generate", "happy bell", str(out / "h.wav"), "--lora", str(SHIPPED_CLASSIFIER)], capsys)
    assert code == 2 and "not a LoRA adapter" in err and not (out / "h.wav").exists()
    assert torch.equal(load_transformer(SHIPPED_TRANSFORMER)[0].proj_out.weight, model.proj_out.weight)
