"""The autoencoder commands end to end, on a tiny model trained for two steps."""

import json

import numpy as np
import pytest
import soundfile as sf

from minidcae.cli.main import main

TINY = [
    "steps=2",
    "batch_size=2",
    "crop_frames=32",
    "n_clips=4",
    "clip_seconds=1.0",
    "widths=8,8,8,8",
    "latent_channels=4",
]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("ae")
    assert main(["train-ae", "--profile", "ci", "--out", str(out), "--device", "cpu", "--skip-eval", *TINY]) == 0
    return out / "autoencoder.safetensors"


@pytest.fixture
def song(tmp_path):
    t = np.arange(int(1.5 * 44100)) / 44100
    path = tmp_path / "song.flac"
    sf.write(
        path, np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 330 * t)], 1).astype(np.float32) * 0.3, 44100
    )
    return path


def test_train_ae_writes_checkpoint_config_logs_and_state(checkpoint):
    out = checkpoint.parent
    meta = json.loads((out / "autoencoder.json").read_text())
    assert meta["kind"] == "dcae" and meta["config"]["latent_channels"] == 4 and meta["info"]["train"]["steps"] == 2
    assert (out / "phase1" / "state.safetensors").exists() and (out / "phase1" / "log.csv").exists()


def test_reconstruct_encode_decode_with_a_checkpoint(checkpoint, song, tmp_path, capsys):
    assert (
        main(["reconstruct", str(song), str(tmp_path / "r.wav"), "--checkpoint", str(checkpoint), "--iters", "4"]) == 0
    )
    assert "DCAE" in capsys.readouterr().out
    assert main(["encode", str(song), str(tmp_path / "z.safetensors"), "--checkpoint", str(checkpoint)]) == 0
    assert (
        main(
            [
                "decode",
                str(tmp_path / "z.safetensors"),
                str(tmp_path / "d.ogg"),
                "--checkpoint",
                str(checkpoint),
                "--iters",
                "4",
            ]
        )
        == 0
    )
    decoded, rate = sf.read(tmp_path / "d.ogg")
    assert rate == 22050 and abs(len(decoded) - 1.5 * 22050) < 256


def test_bad_settings_and_checkpoints_give_one_line(checkpoint, song, tmp_path, capsys):
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    cases = [
        ["train-ae", "--profile", "ci", "--out", str(tmp_path / "x"), "nonsense=1"],
        ["train-ae", "--profile", "ci", "--out", str(tmp_path / "x"), "steps=many"],
        ["reconstruct", str(song), str(tmp_path / "o.wav"), "--checkpoint", str(tmp_path / "none.safetensors")],
        ["reconstruct", str(song), str(tmp_path / "o.wav"), "--checkpoint", str(tmp_path / "junk.safetensors")],
        ["decode", str(checkpoint), str(tmp_path / "o.wav"), "--checkpoint", str(checkpoint)],
    ]
    for args in cases:
        assert main(args) == 2, args
        err = capsys.readouterr().err.strip()
        assert err.startswith("minidcae: error: ") and "\n" not in err, err
