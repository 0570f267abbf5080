"""Plots and players: waveforms, mels, filterbanks, and audio you can listen to in a notebook."""

from __future__ import annotations

import base64
import html
import io

import matplotlib.pyplot as plt
import numpy as np
import soundfile as sf
import torch

from .config import DEFAULT_MEL, MelConfig


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().float().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float32)


def plot_waveform(wav, sample_rate: int, ax=None, title: str = "", onsets=(), beats=()):
    """Waveform against seconds, with true note onsets (red) and beats (grey) if given."""
    ax = ax or plt.subplots(figsize=(10, 2.5))[1]
    y = _numpy(wav)
    y = y.reshape(-1, y.shape[-1])[0]  # first channel: (samples,)
    ax.plot(np.arange(len(y)) / sample_rate, y, lw=0.5, color="k")
    for b in beats:
        ax.axvline(b, color="0.6", lw=1, ls="--")
    for o in onsets:
        ax.axvline(o, color="tab:red", lw=0.8, alpha=0.7)
    ax.set(xlabel="seconds", ylabel="amplitude", title=title, xlim=(0, len(y) / sample_rate))
    return ax


def plot_mel(x, cfg: MelConfig = DEFAULT_MEL, ax=None, title: str = "", vmin=-1.0, vmax=1.0):
    """A normalised log-mel (n_mels, frames) as an image: time in seconds, mel bands upwards."""
    ax = ax or plt.subplots(figsize=(10, 3))[1]
    m = _numpy(x)
    m = m.reshape(-1, *m.shape[-2:])[0]  # first channel: (n_mels, frames)
    seconds = cfg.seconds_for(m.shape[-1])
    im = ax.imshow(m, origin="lower", aspect="auto", cmap="magma", vmin=vmin, vmax=vmax,
                   extent=(0, seconds, 0, m.shape[0]))
    ax.set(xlabel="seconds", ylabel="mel band", title=title)
    plt.colorbar(im, ax=ax, pad=0.01)
    return ax


def plot_mels(mels: dict, cfg: MelConfig = DEFAULT_MEL, **kw):
    """Several log-mels stacked, one row each, titled by their dict keys."""
    fig, axes = plt.subplots(len(mels), 1, figsize=(10, 2.6 * len(mels)), squeeze=False)
    for ax, (name, m) in zip(axes[:, 0], mels.items()):
        plot_mel(m, cfg, ax=ax, title=name, **kw)
    fig.tight_layout()
    return fig


def audio_bytes(wav, sample_rate: int, fmt: str = "OGG") -> bytes:
    """An audio file in memory (Ogg Vorbis by default: ten times smaller than WAV in a notebook),
    peak-normalised to 0.9: for listening, not for measuring."""
    y = _numpy(wav)
    y = y.reshape(-1, y.shape[-1]).T  # (samples, channels)
    y = 0.9 * y / max(float(np.abs(y).max()), 1e-9)
    buf = io.BytesIO()
    sf.write(buf, y, sample_rate, format=fmt, subtype="VORBIS" if fmt == "OGG" else "PCM_16")
    return buf.getvalue()


def audio_tag(wav, sample_rate: int) -> str:
    data = base64.b64encode(audio_bytes(wav, sample_rate)).decode("ascii")
    return f'<audio controls preload="none" src="data:audio/ogg;base64,{data}"></audio>'


class Players:
    """Audio players side by side with a caption each; displays itself in a notebook as HTML."""

    def __init__(self, clips: dict, sample_rate: int):
        self.clips, self.sample_rate = clips, sample_rate

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<td style='padding:4px 12px'><b>{html.escape(name)}</b><br>{audio_tag(w, self.sample_rate)}</td>"
            for name, w in self.clips.items())
        return f"<table><tr>{cells}</tr></table>"

    def __repr__(self) -> str:
        return f"Players({', '.join(self.clips)})"


def plot_history(runs, keys=("loss",), ax=None, title: str = "", logy: bool = False):
    """Training curves against step. `runs` is one history (the list of rows Trainer.fit returns)
    or {label: history}; one line per (run, key)."""
    ax = ax or plt.subplots(figsize=(8, 3))[1]
    runs = runs if isinstance(runs, dict) else {"": runs}
    for label, history in runs.items():
        for key in keys:
            ax.plot([row["step"] for row in history], [row[key] for row in history],
                    label=" ".join(filter(None, (label, key))), marker="." if len(history) < 30 else None)
    ax.set(xlabel="step", ylabel=", ".join(keys), title=title, yscale="log" if logy else "linear")
    ax.legend()
    return ax
