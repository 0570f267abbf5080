"""`minidcae evaluate` end to end, on a tiny untrained DCAE and two short generated WAVs."""

import json
import math

import numpy as np
import pytest
import soundfile as sf
import torch

from minidcae.cli.main import main
from minidcae.core.checkpoint import save_model
from minidcae.core.config import DCAEConfig
from minidcae.measure.evaluate import SYSTEMS, evaluate_folder, print_report, reconstruction_report
from minidcae.models.dcae import DCAE, load_autoencoder
from minidcae.sound.synth import synth_clip

MEASURES = ("log_mel_l1_db", "mel_snr_db", "mr_stft", "si_sdr_db", "stoi", "pesq")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    cfg = DCAEConfig(widths=(8, 8, 8, 8), latent_channels=4)
    return save_model(tmp_path_factory.mktemp("ckpt") / "tiny", DCAE(cfg), "dcae", cfg)  # default mel front end


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips")
    (root / "sub").mkdir()
    for i, path in enumerate((root / "a.wav", root / "sub" / "b.wav")):
        sf.write(path, synth_clip(i, 1.0, 44100)[0], 44100)  # another rate: evaluate resamples
    return root


def test_evaluate_folder_measures_every_clip_for_both_systems(checkpoint, folder, capsys):
    model, meta = load_autoencoder(checkpoint)
    report = evaluate_folder(model, meta, folder, gl_iters=4)
    assert sorted(report["clips"]) == ["a.wav", "sub/b.wav"]
    for clip in report["clips"].values():
        assert clip["seconds"] == pytest.approx(1.0, abs=1e-3)
        for system in SYSTEMS:
            assert set(clip[system]) == set(MEASURES)
    # the mean is the mean of the clips
    a, b = report["clips"]["a.wav"]["dcae"], report["clips"]["sub/b.wav"]["dcae"]
    assert report["mean"]["dcae"]["mr_stft"] == pytest.approx((a["mr_stft"] + b["mr_stft"]) / 2)
    # an untrained decoder loses far more of the mel than Griffin-Lim from the true mel
    assert report["mean"]["dcae"]["log_mel_l1_db"] > report["mean"]["oracle"]["log_mel_l1_db"]
    assert report["mean"]["dcae"]["mel_snr_db"] < report["mean"]["oracle"]["mel_snr_db"]
    print_report(report)
    out = capsys.readouterr().out
    assert "mean (2 clips)" in out and "sub/b.wav" in out and "STOI" in out


def test_max_seconds_cuts_each_clip(checkpoint, folder):
    model, meta = load_autoencoder(checkpoint)
    report = evaluate_folder(model, meta, folder / "sub", gl_iters=2, max_seconds=0.5)
    assert report["clips"]["b.wav"]["seconds"] == pytest.approx(0.5, abs=1e-3)


def test_evaluate_command_prints_the_table_and_writes_json(checkpoint, folder, tmp_path, capsys):
    out = tmp_path / "reports" / "report.json"
    assert (
        main(["evaluate", "--checkpoint", str(checkpoint), "--data", str(folder), "--out", str(out), "--iters", "4"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "a.wav" in printed and "oracle" in printed and f"wrote {out}" in printed
    report = json.loads(out.read_text())
    assert report["checkpoint"] == str(checkpoint) and report["griffin_lim_iters"] == 4
    assert set(report["mean"]) == set(SYSTEMS) and len(report["clips"]) == 2
    assert not list(out.parent.glob(".*"))  # written atomically: no temp file left behind


def test_evaluate_bad_input_gives_one_line(checkpoint, folder, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "short").mkdir()
    sf.write(tmp_path / "short" / "tiny.wav", np.zeros(100, dtype=np.float32), 22050)
    out = str(tmp_path / "r.json")
    cases = [
        ["--checkpoint", str(tmp_path / "none.safetensors"), "--data", str(folder), "--out", out],
        ["--checkpoint", str(checkpoint), "--data", str(tmp_path / "missing"), "--out", out],
        ["--checkpoint", str(checkpoint), "--data", str(tmp_path / "empty"), "--out", out],
        ["--checkpoint", str(checkpoint), "--data", str(tmp_path / "short"), "--out", out],
        ["--checkpoint", str(checkpoint), "--data", str(folder), "--out", str(tmp_path / "r.txt")],
    ]
    errors = []
    for args in cases:
        assert main(["evaluate", *args]) == 2, args
        errors.append(capsys.readouterr().err.strip())
        assert errors[-1].startswith("minidcae: error: ") and "\n" not in errors[-1], errors[-1]
    assert "tiny.wav" in errors[3] and "shorter than one STFT window" in errors[3]


def test_compare_pipelines_gives_four_rows_per_set_and_the_oracle_beats_an_untrained_dcae(checkpoint):
    from minidcae.core.config import DEFAULT_MEL, VocoderConfig
    from minidcae.measure.evaluate import PIPELINES, compare_pipelines
    from minidcae.models.vocoder import Vocoder

    model, _ = load_autoencoder(checkpoint)
    torch.manual_seed(0)
    vocoder = Vocoder(VocoderConfig.for_mel(DEFAULT_MEL, dim=16, blocks=1))
    wav = torch.from_numpy(synth_clip(5, 1.0, DEFAULT_MEL.sample_rate)[0])[None]  # (1, samples)
    table = compare_pipelines(model, vocoder, DEFAULT_MEL, {"one": {"clip": wav}}, gl_iters=4)
    assert list(table) == ["one"] and tuple(table["one"]) == PIPELINES
    rows = table["one"]
    assert set(rows["oracle + neural"]) == set(MEASURES)
    # the oracle's mel is the true mel, so its Griffin-Lim audio is closer than an untrained DCAE's
    assert rows["oracle + griffin-lim"]["log_mel_l1_db"] < rows["dcae + griffin-lim"]["log_mel_l1_db"]
    # the two oracle rows start from the same mel and differ only by the vocoder
    assert rows["oracle + griffin-lim"]["mr_stft"] != rows["oracle + neural"]["mr_stft"]


def test_reconstruction_report_worsens_in_every_measure_as_noise_grows():
    g = torch.Generator().manual_seed(0)
    t = torch.arange(22050 * 2) / 22050
    x = sum(torch.sin(2 * math.pi * f * t) / (i + 1) for i, f in enumerate((220, 330, 440, 660)))
    music = (0.2 * x + 0.05 * torch.randn(t.shape, generator=g))[None]  # (1, samples)
    g = torch.Generator().manual_seed(1)
    noise = torch.randn(music.shape, generator=g)
    reports = [reconstruction_report(music, music + level * noise) for level in (0.001, 0.01, 0.1)]
    for key in ("log_mel_l1_db", "mr_stft", "spectral_convergence"):
        values = [r[key] for r in reports]
        assert values == sorted(values) and values[0] < values[-1], key
    sdr = [r["si_sdr_db"] for r in reports]
    assert sdr == sorted(sdr, reverse=True)
