"""Audio files: any WAV/FLAC/OGG/MP3 in as a float32 waveform, a waveform out as a file.

    load_audio     any WAV/FLAC/OGG/MP3, any rate and channel count -> float32 (channels, samples); a missing,
                   unreadable, empty or NaN file is refused in one line naming it, a WAV cut short is read as far
                   as it goes (wav_header_frames notices)
    save_audio     (channels, samples) -> file, written to a temp name first, then renamed
    mix_channels   (C, L) -> mono or stereo
    soundfile      the soundfile package, imported only when a file is read or written (a GPU machine with
                   its own Python may lack it: everything but files runs without it)

The waveform's way to a log-mel and back is minidcae.sound.audio. Taught in notebook 00 (audio to mel).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torchaudio

from minidcae.core.config import DEFAULT_MEL
from minidcae.core.errors import AudioFileError, MinidcaeError
from minidcae.core.files import atomic_write

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


def soundfile():
    """The soundfile module, or a MinidcaeError saying how to get it (tools/gpu_check.py runs without it)."""
    try:
        import soundfile as sf
    except ImportError:
        raise MinidcaeError(
            "audio files need the soundfile package, which this Python lacks: pip install soundfile==0.14.0 "
            "(or bring its wheel: make gpu-wheels)"
        ) from None
    return sf


def load_audio(path, sample_rate: int = DEFAULT_MEL.sample_rate, channels: int = 1) -> torch.Tensor:
    """Read an audio file, resample it to `sample_rate`, mix to `channels` (1 or 2).

    Returns float32 (channels, samples). Raises AudioFileError naming the file for a missing,
    unreadable or empty file, or one holding NaN / infinite samples.
    """
    path = Path(path)
    if not path.exists():
        raise AudioFileError(path, "no such file")
    if path.is_dir():
        raise AudioFileError(path, "is a folder, not an audio file")
    sf = soundfile()
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)  # (samples, file_channels)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioFileError(path, f"not a readable audio file (WAV, FLAC, OGG or MP3): {err}") from None
    if data.shape[0] == 0:
        raise AudioFileError(path, "empty file (0 samples)")
    if not np.isfinite(data).all():
        raise AudioFileError(path, "contains NaN or infinite samples")
    declared = wav_header_frames(path)
    if declared is not None and declared > data.shape[0]:
        # libsndfile reads what is there without a word; say so, and go on with it
        print(f"warning: {path}: file ends early: header says {declared} frames, {data.shape[0]} read", file=sys.stderr)
    wav = torch.from_numpy(data.T.copy())  # (file_channels, samples)
    wav = mix_channels(wav, channels)  # (channels, samples)
    if rate != sample_rate:
        wav = torchaudio.functional.resample(wav, rate, sample_rate)  # (channels, samples * sample_rate / rate)
    return wav.contiguous()


def wav_header_frames(path) -> int | None:
    """Frames a RIFF/WAVE header declares (data chunk bytes / block align); None for anything else.

    A WAV cut short (a copy that stopped, a download that broke) keeps its header, which still
    promises the whole length; comparing the two is how load_audio notices."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            block_align = 0
            while len(chunk := f.read(8)) == 8:  # chunk: 4-byte id, 4-byte little-endian size
                kind, size = chunk[:4], int.from_bytes(chunk[4:], "little")
                if kind == b"data":
                    # 0 and 0xFFFFFFFF are what streaming writers leave when they cannot seek back
                    return size // block_align if block_align and 0 < size < 0xFFFFFFFF else None
                if kind == b"fmt ":
                    block_align = int.from_bytes(f.read(16)[12:14], "little")  # bytes per frame
                    size -= 16
                f.seek(size + (size & 1), 1)  # chunks are padded to an even length
    except OSError:
        return None
    return None


def mix_channels(wav: torch.Tensor, channels: int) -> torch.Tensor:
    """(C, L) -> (channels, L): average down to mono, or duplicate mono / keep left-right for stereo."""
    if channels not in (1, 2):
        raise ValueError(f"channels must be 1 (mono) or 2 (stereo), got {channels}")
    if channels == 1:
        return wav.mean(dim=0, keepdim=True)  # (1, L)
    if wav.shape[0] == 1:
        return wav.expand(2, -1).clone()  # (2, L)
    return wav[:2]  # (2, L)


def save_audio(path, wav: torch.Tensor | np.ndarray, sample_rate: int) -> Path:
    """Write (channels, samples) or (samples,) audio as 16-bit PCM; the format follows the suffix.

    The file appears whole or not at all: it is written to a temp name beside it, then renamed.
    """
    path = Path(path)
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise AudioFileError(path, f"unknown audio format; use one of {', '.join(AUDIO_SUFFIXES)}")
    wav = torch.as_tensor(wav, dtype=torch.float32).detach().cpu()
    if wav.ndim == 1:
        wav = wav[None]  # (1, L)
    if not torch.isfinite(wav).all():
        raise AudioFileError(path, "refusing to write NaN or infinite samples")
    subtype = None if path.suffix.lower() in (".ogg", ".mp3") else "PCM_16"
    sf = soundfile()
    atomic_write(path, lambda tmp: sf.write(tmp, wav.clamp(-1, 1).numpy().T, sample_rate, subtype=subtype))
    return path
