import json

import pytest
import torch

from minidcae.core.checkpoint import CheckpointError, load_model, load_tensors, save_model, save_tensors
from minidcae.core.config import DCAEConfig
from minidcae.models.dcae import BUILDERS, DCAE


def test_model_round_trips_through_safetensors_and_json(tmp_path):
    cfg = DCAEConfig(widths=(8, 16, 16, 16), latent_channels=4, bottleneck="kl")
    model = DCAE(cfg)
    model.latent_mean.fill_(0.3)
    path = save_model(tmp_path / "ae", model, "dcae", cfg, {"note": "x"})
    loaded, meta = load_model(path, BUILDERS)
    assert loaded.cfg == cfg and meta["info"] == {"note": "x"}
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))
    assert json.loads((tmp_path / "ae.json").read_text())["config"]["bottleneck"] == "kl"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ae.json", "ae.safetensors"]


def test_bad_checkpoints_raise_one_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_model(tmp_path / "missing.safetensors", BUILDERS)
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="not a readable minidcae checkpoint"):
        load_model(tmp_path / "junk.safetensors", BUILDERS)
    cfg = DCAEConfig(widths=(8, 16, 16, 16), latent_channels=4)
    path = save_model(tmp_path / "ae", DCAE(cfg), "dcae", cfg)
    tensors, meta = load_tensors(path)
    meta["config"]["latent_channels"] = 8  # a config that does not match the weights
    save_tensors(tmp_path / "other.safetensors", tensors, meta)
    with pytest.raises(CheckpointError, match="do not fit"):
        load_model(tmp_path / "other.safetensors", BUILDERS)
    truncated = path.read_bytes()[: len(path.read_bytes()) // 2]
    (tmp_path / "cut.safetensors").write_bytes(truncated)
    with pytest.raises(CheckpointError):
        load_model(tmp_path / "cut.safetensors", BUILDERS)
