"""The compression sweep: its grid, one point trained end to end, and what the measures do."""

import pytest
import torch

from minidcae.core.config import DEFAULT_MEL, SWEEP_CHANNELS, SWEEP_TIME_FACTORS
from minidcae.core.errors import MinidcaeError
from minidcae.core.profiles import get_profile
from minidcae.recipes.sweep import (
    evaluate_point,
    heldout_rhythm_clips,
    load_sweep,
    point_config,
    point_name,
    sweep_points,
    sweep_table,
    train_sweep,
)

MEL = DEFAULT_MEL


def test_the_grid_covers_every_time_factor_and_channel_count():
    points = sweep_points()
    assert len(points) == len(SWEEP_TIME_FACTORS) * len(SWEEP_CHANNELS) == 8
    assert sweep_points("t8c4, t16c16") == [(8, 4), (16, 16)]
    with pytest.raises(MinidcaeError, match="t8x4"):
        sweep_points("t8x4")


def test_compression_is_four_times_the_time_factor_over_the_channels():
    # mel numbers / latent numbers = (n_mels T) / (c (n_mels / 4) (T / t)) = 4 t / c
    assert point_config(16, 4).compression(MEL.n_mels) == 16
    assert point_config(2, 16).compression(MEL.n_mels) == 0.5
    assert point_name(8, 4) == "t8c4"


def test_the_oracle_has_zero_mel_error_and_a_constant_mel_loses_the_onsets():
    clips = heldout_rhythm_clips(MEL, n=2, seconds=2.0)
    assert all(len(onsets) > 0 for _, onsets in clips)
    oracle = evaluate_point(None, MEL, clips, gl_iters=8)
    assert oracle["mel_l1_db"] == 0
    assert oracle["onset_f1"] > 0.3

    class Silence(torch.nn.Module):  # decodes every latent to the quietest mel, the same in every frame
        def encode(self, x):
            return x

        def decode(self, z, shape):
            return torch.full_like(z, -1.0)

    silent = evaluate_point(Silence(), MEL, clips, gl_iters=8)
    assert silent["mel_l1_db"] > 10
    # a constant sound only "starts" once, at t = 0 (after the silence assumed before the clip)
    assert silent["onset_f1"] < oracle["onset_f1"] / 2
    assert silent["onset_f1_inside"] < oracle["onset_f1_inside"] / 2 and oracle["onset_f1_inside"] > 0.3


def test_one_point_trains_loads_and_is_measured_beside_the_oracle(tmp_path):
    paths = train_sweep(tmp_path, get_profile("ci"), points="t16c4", quiet=True)
    assert list(paths) == ["t16c4"] and paths["t16c4"].exists()
    models = load_sweep(tmp_path)
    assert list(models) == ["t16c4"] and models["t16c4"][0].cfg.time_factor == 16
    rows = sweep_table(models, MEL, heldout_rhythm_clips(MEL, n=1, seconds=2.0), gl_iters=4)
    assert [r["point"] for r in rows] == ["oracle", "t16c4"]
    assert rows[1]["compression"] == 16 and rows[1]["train_steps"] == 20
    assert rows[1]["mel_l1_db"] > rows[0]["mel_l1_db"] == 0


def test_an_empty_folder_says_how_to_make_a_sweep(tmp_path):
    with pytest.raises(MinidcaeError, match="minidcae sweep"):
        load_sweep(tmp_path)


def test_the_command_writes_a_table_and_refuses_a_bad_point_in_one_line(tmp_path, capsys):
    import json

    from minidcae.cli.main import main

    assert main(["sweep", "--profile", "ci", "--out", str(tmp_path), "--points", "t16c16"]) == 0
    rows = json.loads((tmp_path / "sweep.json").read_text())
    assert [r["point"] for r in rows] == ["oracle", "t16c16"]
    assert "t16c16" in capsys.readouterr().out
    assert main(["sweep", "--profile", "ci", "--out", str(tmp_path), "--points", "eight"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'eight'" in err[0]
