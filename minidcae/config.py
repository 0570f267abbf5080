"""Profiles and configs: every size in the course lives here, as a dataclass.

One switch, the environment variable MINIDCAE_PROFILE, picks how big things are:

    ci   the whole course runs under nbval in minutes on 2 CPU cores (CI's machine)
    cpu  a laptop trains something you can hear in about a quarter of an hour
    gpu  real training on one CUDA GPU

Unset, it is `gpu` when CUDA is available, else `cpu`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import torch

PROFILE_NAMES = ("ci", "cpu", "gpu")

# The bundled real clips and checkpoints (present in a clone of the repository).
DATA_SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"


@dataclass(frozen=True)
class MelConfig:
    """How a waveform becomes a log-mel "image" (mels x frames) and back.

    Frames follow one rule for every preset: the signal is reflect-padded by
    (n_fft - hop) / 2 on each side and the STFT is not centred, so a clip of
    L samples gives exactly L // hop frames, frame k centred on sample k * hop + hop / 2.
    """

    sample_rate: int = 22050
    n_fft: int = 1024
    win_length: int = 1024
    hop_length: int = 256
    n_mels: int = 64
    f_min: float = 0.0
    f_max: float = 11025.0
    channels: int = 1            # 1 mono, 2 stereo (left/right become two image channels)
    pad_multiple: int = 1        # waveforms are zero-padded to a multiple of this many samples
    log_floor: float = 1e-5      # log(clamp(mel, floor)): the quietest value a mel bin can hold
    # log-mel -> about [-1, 1]:  x = (log_mel + offset) / scale * 2 - 1
    norm_offset: float = 11.0
    norm_scale: float = 14.0

    @property
    def n_freqs(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def frame_rate(self) -> float:
        """Mel frames per second of audio."""
        return self.sample_rate / self.hop_length

    def frames_for(self, n_samples: int) -> int:
        """Frames the log-mel of n_samples samples has (after padding to pad_multiple)."""
        padded = -(-n_samples // self.pad_multiple) * self.pad_multiple
        return padded // self.hop_length

    def seconds_for(self, n_frames: int) -> float:
        return n_frames * self.hop_length / self.sample_rate


# Our CPU-sized default: 22.05 kHz mono, hop 256 (86 frames/s), 64 mel bands.
DEFAULT_MEL = MelConfig()

# ACE-Step v1's music DCAE front end, exactly: 44.1 kHz stereo, n_fft 2048, hop 512,
# 128 Slaney mels from 40 Hz to 16 kHz, magnitude, log(clamp(., 1e-5)), (x + 11) / 14 * 2 - 1,
# waveform padded to a multiple of 4096 samples.
ACE_STEP_MEL = MelConfig(
    sample_rate=44100, n_fft=2048, win_length=2048, hop_length=512, n_mels=128,
    f_min=40.0, f_max=16000.0, channels=2, pad_multiple=4096,
)


@dataclass(frozen=True)
class Profile:
    """How much work each notebook and command does. Later chapters add their own sizes."""

    name: str
    n_clips: int             # synthetic clips in the demo and in small training sets
    clip_seconds: float      # length of each synthetic clip
    griffin_lim_iters: int   # Griffin-Lim iterations when inverting a log-mel
    mel: MelConfig = DEFAULT_MEL


PROFILES = {
    "ci": Profile("ci", n_clips=6, clip_seconds=3.0, griffin_lim_iters=32),
    "cpu": Profile("cpu", n_clips=64, clip_seconds=4.0, griffin_lim_iters=64),
    "gpu": Profile("gpu", n_clips=1024, clip_seconds=6.0, griffin_lim_iters=64),
}


def profile_name(name: str | None = None) -> str:
    """The profile to use: `name`, else MINIDCAE_PROFILE, else gpu if CUDA is there, else cpu."""
    name = name or os.environ.get("MINIDCAE_PROFILE") or ("gpu" if torch.cuda.is_available() else "cpu")
    if name not in PROFILES:
        raise ValueError(f"MINIDCAE_PROFILE={name!r} is not a profile; use one of {', '.join(PROFILE_NAMES)}")
    return name


def get_profile(name: str | None = None, **overrides) -> Profile:
    """The Profile for `name` (see profile_name), with any field overridden by keyword."""
    return replace(PROFILES[profile_name(name)], **overrides)


def pick_device(name: str | None = None) -> torch.device:
    """`name` if given, else the best device here: cuda, then mps, then cpu."""
    if name:
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
