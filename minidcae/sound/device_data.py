"""Training data that lives on the device: whole clips made once, crops cut there every step.

    synth_waves       synthetic clips from their seeds, in parallel processes: (N, samples) and their labels
    load_waves        audio files resampled to one rate, each (samples,)
    MelBank           full log-mels of clips of any lengths, on the device; crop_batch cuts B random windows
    gain_shift        a gain of g dB applied to a normalised log-mel, exactly (the log floor stays the floor)
    WaveBank          waveforms on the device; crop_batch cuts B aligned (waveform, log-mel) crops

The datasets of minidcae.sound.data cut and collate one crop at a time in Python, which is right for a CPU
and for a notebook; a GPU that finishes a step in milliseconds waits on that loop. Here the clips are
synthesised once (one process per core), log-melled in one batch on the device, and each step's
crops are an index and a gather on the device. The randomness is one torch.Generator on the
device, so a run repeats on the same machine.

Used by tools/gpu_train.py (`make gpu-train`).
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F

from minidcae.core.config import MelConfig
from minidcae.sound.audio import log_mel
from minidcae.sound.audio_files import load_audio
from minidcae.sound.synth import synth_clip


def _synth_one(job: tuple[int, float, int]):
    seed, seconds, sample_rate = job
    wav, labels = synth_clip(seed, seconds, sample_rate)
    return wav, labels


def synth_waves(seeds, seconds: float, sample_rate: int, workers: int | None = None):
    """(waveforms (N, samples) float32, [ClipLabels]) for the given seeds, synthesised in `workers`
    processes (default: every core). Call it before CUDA is used: the workers are forked."""
    jobs = [(int(s), seconds, sample_rate) for s in seeds]
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        done = [_synth_one(j) for j in jobs]
    else:
        with ProcessPoolExecutor(workers) as pool:
            done = list(pool.map(_synth_one, jobs, chunksize=max(1, len(jobs) // (4 * workers))))
    waves = torch.from_numpy(np.stack([w for w, _ in done]))  # (N, samples)
    return waves, [labels for _, labels in done]


def load_waves(paths, sample_rate: int) -> list[torch.Tensor]:
    """Each file as a mono waveform (samples,) at sample_rate."""
    return [load_audio(p, sample_rate)[0] for p in paths]


def gain_shift(x: torch.Tensor, db: torch.Tensor, mel: MelConfig) -> torch.Tensor:
    """A normalised log-mel x (B, ...) of a clip played db (B,) decibels louder (db <= 0: quieter).

    log(g M) = log M + log g, and x = (log_mel + offset) / scale * 2 - 1 moves by 2 log(g) / scale.
    For g <= 1 this is exact even at the floor: clamp(g M, floor) = max(g clamp(M, floor), floor)."""
    # log g = db ln(10) / 20
    step = 2 * (db * np.log(10) / 20) / mel.norm_scale  # (B,)
    floor = (np.log(mel.log_floor) + mel.norm_offset) / mel.norm_scale * 2 - 1  # the normalised floor
    return (x + step.reshape(-1, *[1] * (x.dim() - 1))).clamp(min=floor)


class MelBank:
    """Full log-mels of clips (each (C, n_mels, T_i)) padded with silence to the longest, on the device.

    crop_batch(b) draws b clips (uniformly) and one window of `crop` frames in each (uniformly among
    the windows that fit; a clip shorter than the crop is padded with silence)."""

    def __init__(self, mels: list[torch.Tensor], crop: int, device, generator: torch.Generator):
        self.crop, self.device, self.g = crop, torch.device(device), generator
        longest = max(crop, max(m.shape[-1] for m in mels))
        floor = min(float(m.min()) for m in mels)  # silence
        self.mels = torch.stack([F.pad(m, (0, longest - m.shape[-1]), value=floor) for m in mels]).to(device)
        self.lengths = torch.tensor([max(crop, m.shape[-1]) for m in mels], device=device)  # (N,)

    def __len__(self) -> int:
        return len(self.mels)

    def crop_batch(self, b: int) -> torch.Tensor:
        """(b, C, n_mels, crop) random windows, drawn on the device."""
        idx = torch.randint(len(self.mels), (b,), device=self.device, generator=self.g)  # (b,)
        room = self.lengths[idx] - self.crop + 1  # (b,): how many windows fit in each clip
        start = (torch.rand(b, device=self.device, generator=self.g) * room).long()  # (b,)
        frames = start[:, None] + torch.arange(self.crop, device=self.device)  # (b, crop)
        clips = self.mels[idx]  # (b, C, n_mels, T)
        index = frames[:, None, None, :].expand(-1, clips.shape[1], clips.shape[2], -1)  # (b, C, n_mels, crop)
        return torch.gather(clips, 3, index)  # (b, C, n_mels, crop)


class WaveBank:
    """Waveforms (N, samples) on the device. crop_batch(b) cuts b aligned crops of crop frames (crop * hop
    samples) at random places and gains between -12 and 0 dB, and their log-mels: what the vocoder learns."""

    def __init__(self, waves: list[torch.Tensor], crop: int, mel: MelConfig, device, generator: torch.Generator):
        self.n, self.mel, self.device, self.g = crop * mel.hop_length, mel, torch.device(device), generator
        longest = max(self.n, max(w.shape[-1] for w in waves))
        self.waves = torch.stack([F.pad(w, (0, longest - w.shape[-1])) for w in waves]).to(device)  # (N, L)
        self.lengths = torch.tensor([max(self.n, w.shape[-1]) for w in waves], device=device)  # (N,)

    def crop_batch(self, b: int) -> dict:
        idx = torch.randint(len(self.waves), (b,), device=self.device, generator=self.g)  # (b,)
        start = (torch.rand(b, device=self.device, generator=self.g) * (self.lengths[idx] - self.n + 1)).long()
        samples = start[:, None] + torch.arange(self.n, device=self.device)  # (b, n)
        # gain g = 10^(dB / 20), dB uniform in [-12, 0]: the vocoder should not learn one loudness
        db = -12 * torch.rand(b, 1, device=self.device, generator=self.g)  # (b, 1)
        wav = (torch.gather(self.waves[idx], 1, samples) * 10 ** (db / 20))[:, None]  # (b, 1, n)
        return {"mel": log_mel(wav, self.mel), "wav": wav}  # (b, 1, n_mels, crop), (b, 1, n)
