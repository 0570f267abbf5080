import numpy as np
import pytest
import soundfile as sf
import torch

from minidcae.sound.audio import log_mel
from minidcae.core.config import DEFAULT_MEL
from minidcae.sound.data import FolderMelDataset, MelCache, SynthMelDataset, crop_frames, find_audio_files
from minidcae.sound.synth import HELDOUT_SEED_BASE, INSTRUMENTS, synth_clip


def test_synth_dataset_yields_fixed_crops_of_the_right_clip(tmp_path):
    ds = SynthMelDataset(n=3, seconds=2.0, crop=64, seed=5, cache=MelCache(tmp_path))
    item = ds[1]
    assert item["mel"].shape == (1, DEFAULT_MEL.n_mels, 64)
    wav, labels = synth_clip(6, 2.0)
    full = log_mel(torch.from_numpy(wav)[None])  # (1, n_mels, frames)
    assert INSTRUMENTS[item["instrument"]] == labels.instrument
    # the crop is a window of the clip's own log-mel
    starts = [s for s in range(full.shape[-1] - 63) if torch.allclose(full[..., s : s + 64], item["mel"], atol=1e-5)]
    assert starts


def test_synth_dataset_is_deterministic_and_caches_on_disk(tmp_path):
    a = SynthMelDataset(n=2, seconds=1.0, crop=32, cache=MelCache(tmp_path))
    first = a[0]["mel"]
    assert len(list(tmp_path.rglob("*.safetensors"))) == 1
    b = SynthMelDataset(n=2, seconds=1.0, crop=32, cache=MelCache(tmp_path))
    assert torch.equal(b[0]["mel"], first)
    a.set_epoch(1)  # a new epoch draws a new window from the same cached mel
    assert a[0]["mel"].shape == first.shape


def test_heldout_seeds_never_overlap_training_seeds(tmp_path):
    held = SynthMelDataset(n=2, seconds=1.0, crop=16, split="heldout", cache=MelCache(tmp_path))
    assert held.base == HELDOUT_SEED_BASE
    with pytest.raises(ValueError, match="held-out range"):
        SynthMelDataset(n=10, seconds=1.0, crop=16, seed=HELDOUT_SEED_BASE - 5)


def test_folder_dataset_reads_files_and_pads_short_ones(tmp_path):
    root = tmp_path / "train"
    root.mkdir()
    sf.write(root / "a.wav", (0.3 * np.random.default_rng(0).standard_normal(44100)).astype(np.float32), 44100)
    sf.write(root / "b.flac", np.zeros(4000, np.float32) + 0.01, 8000)  # 0.5 s, shorter than the crop
    ds = FolderMelDataset(root, crop=100, cache=MelCache(tmp_path / "cache"))
    assert [p.name for p in ds.files] == ["a.wav", "b.flac"]
    short = ds[1]["mel"]
    assert short.shape == (1, DEFAULT_MEL.n_mels, 100)
    assert torch.all(short[..., -10:] == -1.0)  # padded with silence


def test_training_folders_refuse_the_heldout_split(tmp_path):
    held = tmp_path / "audio" / "heldout"
    held.mkdir(parents=True)
    sf.write(held / "x.wav", np.zeros(2048, np.float32), 22050)
    with pytest.raises(ValueError, match="held-out"):
        find_audio_files(held)
    assert find_audio_files(held, allow_heldout=True)


def test_crop_is_a_window_or_padding():
    mel = torch.arange(10.0)[None]
    rng = np.random.default_rng(0)
    window = crop_frames(mel, 4, rng)
    assert window.shape == (1, 4) and torch.equal(window, mel[:, int(window[0, 0]) : int(window[0, 0]) + 4])
    assert torch.equal(crop_frames(mel, 12, rng)[:, 10:], torch.full((1, 2), -1.0))
