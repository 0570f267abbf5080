"""Datasets of fixed-length log-mel crops, with the mels cached on disk.

    SynthMelDataset    clips synthesized on the fly from seeds (labelled, nothing to download)
    FolderMelDataset   every audio file under a folder (WAV, FLAC, OGG, MP3)
    bundled_clips      the rows of data_samples/audio/metadata.csv, by split and kind
    synth_clips        the one builder of synthetic clip sets (held-out seeds unless told otherwise), in seed
                       order or balanced over (instrument, mode); every held-out set below and elsewhere calls it
    heldout_clips      the held-out clip sets every recipe measures on: synthetic seeds and bundled clips
    heldout_sources    the original files the bundled held-out clips were cut from, kept out of training

Both yield {"mel": (channels, n_mels, crop_frames), ...}. The held-out split is never read by
training: synthetic held-out clips use seeds from synth.HELDOUT_SEED_BASE up, and a folder
dataset refuses a path with a `heldout` part unless it is asked for explicitly.
Taught in notebook 01 (the article autoencoder's data) and notebook 03 (training for real).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch.utils.data import Dataset

from minidcae.core.config import DATA_SAMPLES, DEFAULT_MEL, MelConfig
from minidcae.core.files import atomic_write
from minidcae.sound.audio import log_mel
from minidcae.sound.audio_files import AUDIO_SUFFIXES, load_audio
from minidcae.sound.synth import INSTRUMENTS, MODES, ClipLabels, draw_labels, first_seed, synth_clip


def default_cache_dir() -> Path:
    """MINIDCAE_CACHE if set, else ~/.cache/minidcae."""
    return Path(os.environ.get("MINIDCAE_CACHE", Path.home() / ".cache" / "minidcae"))


class MelCache:
    """Log-mels on disk as safetensors, keyed by the mel config and a name for the source.

    Bump VERSION when log_mel's code changes what it computes, so stale files are never read.
    """

    VERSION = 1

    def __init__(self, root=None):
        self.root = Path(root) if root is not None else default_cache_dir() / "mels"

    def path(self, cfg: MelConfig, source: str) -> Path:
        key = hashlib.sha1(repr((self.VERSION, sorted(asdict(cfg).items()), source)).encode()).hexdigest()
        return self.root / key[:2] / f"{key}.safetensors"

    def get(self, cfg: MelConfig, source: str, compute) -> torch.Tensor:
        """The cached mel for `source`, or compute() it, store it (temp file, then rename), return it."""
        path = self.path(cfg, source)
        if path.exists():
            return load_file(path)["mel"]
        mel = compute().contiguous()
        atomic_write(path, lambda tmp: save_file({"mel": mel}, tmp))
        return mel


def crop_frames(mel: torch.Tensor, frames: int, rng: np.random.Generator) -> torch.Tensor:
    """A random window of `frames` frames from (..., T); zero-padded at the end (-1 = silence) if T is short."""
    total = mel.shape[-1]
    if total < frames:
        return torch.nn.functional.pad(mel, (0, frames - total), value=-1.0)  # (..., frames)
    start = int(rng.integers(0, total - frames + 1))
    return mel[..., start : start + frames]  # (..., frames)


class _CropDataset(Dataset):
    """Shared crop bookkeeping: item i's window depends only on (seed, epoch, i)."""

    def __init__(self, crop: int, seed: int):
        self.crop, self.seed, self.epoch = crop, seed, 0

    def set_epoch(self, epoch: int) -> None:
        """Draw new crop windows for a new pass over the data."""
        self.epoch = epoch

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch, index])


class SynthMelDataset(_CropDataset):
    """n synthesized clips of `seconds` each; item i is the clip of seed (seed + i), cropped.

    split="train" draws seeds [seed, seed + n); split="heldout" draws HELDOUT_SEED_BASE + seed + i.
    """

    def __init__(
        self,
        n: int,
        seconds: float,
        crop: int,
        cfg: MelConfig = DEFAULT_MEL,
        seed: int = 0,
        split: str = "train",
        cache: MelCache | None = None,
    ):
        super().__init__(crop, seed)
        if split not in ("train", "heldout"):
            raise ValueError(f"split must be 'train' or 'heldout', got {split!r}")
        base = first_seed(seed, n, heldout=split == "heldout")
        self.n, self.seconds, self.cfg, self.base = n, seconds, cfg, base
        self.cache = cache or MelCache()

    def __len__(self) -> int:
        return self.n

    def clip(self, index: int):
        """The waveform (1, samples) and ClipLabels of item `index`."""
        wav, labels = synth_clip(self.base + index, self.seconds, self.cfg.sample_rate)
        return torch.from_numpy(wav)[None], labels

    def full_mel(self, index: int) -> torch.Tensor:
        """The whole clip's log-mel, (1, n_mels, frames), from the cache when it is there."""
        source = f"synth:seed={self.base + index}:seconds={self.seconds}"
        return self.cache.get(self.cfg, source, lambda: log_mel(self.clip(index)[0], self.cfg))

    def __getitem__(self, index: int) -> dict:
        labels = draw_labels(self.base + index)
        return {
            "mel": crop_frames(self.full_mel(index), self.crop, self._rng(index)),  # (1, n_mels, crop)
            "instrument": INSTRUMENTS.index(labels["instrument"]),
            "mode": MODES.index(labels["mode"]),
            "tempo": float(labels["tempo"]),
            "drums": int(labels["drums"]),
            "index": index,
        }


def find_audio_files(root, allow_heldout: bool = False) -> list[Path]:
    """Audio files under `root`, sorted. Refuses a held-out folder unless allow_heldout."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder of audio files")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not allow_heldout:
        held = [p for p in files if "heldout" in p.relative_to(root.parent).parts]
        if held:
            raise ValueError(
                f"{held[0]}: is in a held-out split, which training never reads; "
                f"point at the train folder (or pass allow_heldout=True to evaluate)"
            )
    if not files:
        raise FileNotFoundError(f"{root}: no audio files ({', '.join(AUDIO_SUFFIXES)}) in this folder")
    return files


class FolderMelDataset(_CropDataset):
    """Every audio file under `root`, resampled to the config's rate; item i is file i, cropped."""

    def __init__(
        self,
        root,
        crop: int,
        cfg: MelConfig = DEFAULT_MEL,
        seed: int = 0,
        allow_heldout: bool = False,
        cache: MelCache | None = None,
    ):
        super().__init__(crop, seed)
        self.files = find_audio_files(root, allow_heldout)
        self.cfg, self.cache = cfg, cache or MelCache()

    def __len__(self) -> int:
        return len(self.files)

    def full_mel(self, index: int) -> torch.Tensor:
        path = self.files[index]
        stat = path.stat()
        source = f"file:{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
        compute = lambda: log_mel(load_audio(path, self.cfg.sample_rate, self.cfg.channels), self.cfg, str(path))
        return self.cache.get(self.cfg, source, compute)  # (channels, n_mels, frames)

    def __getitem__(self, index: int) -> dict:
        return {
            "mel": crop_frames(self.full_mel(index), self.crop, self._rng(index)),  # (channels, n_mels, crop)
            "index": index,
        }


def bundled_clips(split: str = "train", kind: str | None = None, root=DATA_SAMPLES) -> list[dict]:
    """Rows of data_samples/audio/metadata.csv (file, split, kind, source, licence, ...) with a `path`.

    kind is one of recorded-music, instrument, speech, rendered-score; None means all.
    """
    table = Path(root) / "audio" / "metadata.csv"
    if not table.exists():
        raise FileNotFoundError(f"{table}: the bundled clips are missing; run from a clone of the repository")
    with open(table, newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["split"] == split and kind in (None, row["kind"])]
    for row in rows:
        row["path"] = Path(root) / "audio" / row["file"]
    return rows


def synth_clips(
    n: int,
    seconds: float,
    sample_rate: int,
    seed: int = 0,
    heldout: bool = True,
    balanced: bool = False,
    **fixed,
) -> Iterator[tuple[int, torch.Tensor, ClipLabels]]:
    """Synthetic clips as (clip seed, waveform (1, samples), ClipLabels), one at a time: the builder every set of
    synthetic clips goes through, so one (seed, heldout) names the same clips everywhere.

    Seeds start at synth.first_seed(seed, n, heldout): HELDOUT_SEED_BASE + seed for held-out clips (the default),
    `seed` for training clips (refused if they would reach the held-out range). fixed: labels every clip is made
    with (synth_clip's instrument=, drums=, ...). balanced=False: the n consecutive seeds, in order.
    balanced=True: the seeds are walked in order, keeping the first n / 12 clips of each (instrument, mode), and
    the clips come grouped in INSTRUMENTS x MODES order (n a multiple of 12)."""
    combinations = [(i, m) for i in INSTRUMENTS for m in MODES]
    if balanced and n % len(combinations):
        raise ValueError(f"balanced=True needs n a multiple of {len(combinations)} (instruments x modes), got {n}")
    start = first_seed(seed, 1 if balanced else n, heldout)  # a balanced walk's length is not known beforehand
    if not balanced:
        for s in range(start, start + n):
            wav, labels = synth_clip(s, seconds, sample_rate, **fixed)
            yield s, torch.from_numpy(wav)[None], labels
        return
    per_label, slots, s = n // len(combinations), {c: [] for c in combinations}, start
    while any(len(v) < per_label for v in slots.values()):
        wav, labels = synth_clip(s, seconds, sample_rate, **fixed)
        slot = slots[(labels.instrument, labels.mode)]
        if len(slot) < per_label:
            slot.append((s, torch.from_numpy(wav)[None], labels))
        s += 1
    for c in combinations:
        yield from slots[c]


def heldout_clips(
    mel: MelConfig,
    n_synth: int = 8,
    seconds: float = 4.0,
    samples_dir=DATA_SAMPLES,
    synthetic: str = "synthetic held-out",
    real=lambda kind: "real held-out",
) -> dict:
    """{set name: {clip name: waveform (1, samples)}} for clips no training run reads: n_synth
    synthetic clips from the held-out seeds (synth_clips, named seed<N>), then the bundled held-out
    clips, each in the set real(its kind) names (one "real held-out" set unless told otherwise)."""
    sets = {synthetic: {f"seed{s}": wav for s, wav, _ in synth_clips(n_synth, seconds, mel.sample_rate)}}
    try:
        rows = bundled_clips("heldout", root=samples_dir)
    except FileNotFoundError:
        rows = []
    for row in rows:
        sets.setdefault(real(row["kind"]), {})[row["path"].stem] = load_audio(row["path"], mel.sample_rate)
    return sets


def heldout_sources(samples_dir=DATA_SAMPLES) -> set[Path]:
    """The original files the held-out clips were cut from (the absolute paths in metadata.csv's
    source column). A held-out excerpt may be a few seconds of a longer file: the whole file
    is kept out of training."""
    try:
        rows = bundled_clips("heldout", root=samples_dir)
    except FileNotFoundError:
        return set()
    found = (re.search(r": (/[^;]+)", row["source"]) for row in rows)  # "Debian pkg: /usr/share/...; notes"
    return {Path(m.group(1)).resolve() for m in found if m}
