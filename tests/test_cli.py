import subprocess
import sys

import numpy as np
import soundfile as sf

from minidcae.cli.main import main


def test_synth_twice_gives_byte_identical_files(tmp_path, capsys):
    for name in ("a", "b"):
        assert main(["synth", "--out", str(tmp_path / name), "--n", "3", "--seconds", "2", "--seed", "7"]) == 0
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == ["clip_00000.wav", "clip_00001.wav", "clip_00002.wav", "metadata.csv"]
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_reconstruct_writes_audio_and_prints_metrics(tmp_path, capsys):
    t = np.arange(44100) / 44100
    sf.write(tmp_path / "in.ogg", (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 44100)
    assert main(["reconstruct", str(tmp_path / "in.ogg"), str(tmp_path / "out.wav"), "--iters", "8"]) == 0
    out = capsys.readouterr().out
    assert "log_mel_l1_db" in out and "mr_stft" in out
    data, rate = sf.read(tmp_path / "out.wav")
    assert rate == 22050 and len(data) == (22050 // 256) * 256


def test_bad_input_gives_one_line_and_status_2(tmp_path, capsys):
    (tmp_path / "text.wav").write_text("hello")
    sf.write(tmp_path / "tiny.wav", np.zeros(220, np.float32), 22050)
    for args in (
        ["reconstruct", str(tmp_path / "missing.wav"), str(tmp_path / "o.wav")],
        ["reconstruct", str(tmp_path / "text.wav"), str(tmp_path / "o.wav")],
        ["reconstruct", str(tmp_path / "tiny.wav"), str(tmp_path / "o.wav")],
        ["reconstruct", str(tmp_path / "tiny.wav"), str(tmp_path / "o.txt")],
        ["synth", "--out", str(tmp_path / "s"), "--n", "0"],
    ):
        assert main(args) == 2, args
        err = capsys.readouterr().err.strip()
        assert err.startswith("minidcae: error: ") and "\n" not in err, err
    assert not (tmp_path / "o.wav").exists()


def test_the_installed_command_prints_no_traceback(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "minidcae", "reconstruct", str(tmp_path / "nope.flac"), str(tmp_path / "o.wav")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and "nope.flac: no such file" in run.stderr
