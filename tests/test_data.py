import numpy as np
import pytest
import soundfile as sf
import torch

from minidcae.core.config import DEFAULT_MEL
from minidcae.sound.audio import log_mel
from minidcae.sound.data import (
    FolderMelDataset,
    MelCache,
    SynthMelDataset,
    crop_frames,
    find_audio_files,
    heldout_clips,
    synth_clips,
)
from minidcae.sound.synth import HELDOUT_SEED_BASE, INSTRUMENTS, MODES, draw_labels, synth_clip


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


def test_synth_clips_are_consecutive_heldout_seeds_unless_told_otherwise():
    clips = list(synth_clips(3, 0.5, 22050, seed=7))
    assert [s for s, _, _ in clips] == [HELDOUT_SEED_BASE + 7, HELDOUT_SEED_BASE + 8, HELDOUT_SEED_BASE + 9]
    for s, wav, labels in clips:
        alone, alone_labels = synth_clip(s, 0.5, 22050)
        assert wav.shape == (1, len(alone)) and np.array_equal(wav[0].numpy(), alone) and labels == alone_labels
    assert [s for s, _, _ in synth_clips(2, 0.5, 22050, seed=5, heldout=False)] == [5, 6]
    with pytest.raises(ValueError, match="reach the held-out range"):
        list(synth_clips(3, 0.5, 22050, seed=HELDOUT_SEED_BASE - 2, heldout=False))
    assert {labels.instrument for _, _, labels in synth_clips(3, 0.5, 22050, instrument="organ")} == {"organ"}
    # heldout_clips' synthetic set is the same clips, named by seed
    synthetic = heldout_clips(DEFAULT_MEL, 2, 0.5, samples_dir="/nonexistent")["synthetic held-out"]
    assert list(synthetic) == [f"seed{HELDOUT_SEED_BASE}", f"seed{HELDOUT_SEED_BASE + 1}"]


def test_balanced_synth_clips_keep_the_first_of_each_instrument_and_mode_in_grouped_order():
    clips = list(synth_clips(24, 0.25, 22050, seed=3, balanced=True))
    # by hand: walk the held-out seeds from HELDOUT_SEED_BASE + 3, keeping the first two of each combination
    want, s = {(i, m): [] for i in INSTRUMENTS for m in MODES}, HELDOUT_SEED_BASE + 3
    while any(len(v) < 2 for v in want.values()):
        drawn = draw_labels(s)
        if len(want[(drawn["instrument"], drawn["mode"])]) < 2:
            want[(drawn["instrument"], drawn["mode"])].append(s)
        s += 1
    assert [s for s, _, _ in clips] == [s for seeds in want.values() for s in seeds]
    assert [(lab.instrument, lab.mode) for _, _, lab in clips] == [c for c in want for _ in range(2)]
    with pytest.raises(ValueError, match="multiple of 12"):
        list(synth_clips(13, 0.25, 22050, balanced=True))
