"""Plots and players: waveforms, mels, filterbanks, and audio you can listen to in a notebook; the
interpolation widget (built when first used, so the library imports without ipywidgets); and
`show_source`, the library's own code shown where a notebook explains it.

Used from notebook 00 on, in every notebook.
"""

from __future__ import annotations

import base64
import functools
import html
import io

import matplotlib.pyplot as plt
import numpy as np
import torch

from minidcae.core.config import DEFAULT_MEL, MelConfig
from minidcae.core.errors import MinidcaeError
from minidcae.sound.audio_files import soundfile


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
    im = ax.imshow(
        m, origin="lower", aspect="auto", cmap="magma", vmin=vmin, vmax=vmax, extent=(0, seconds, 0, m.shape[0])
    )
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
    sf = soundfile()
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
            for name, w in self.clips.items()
        )
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
            ax.plot(
                [row["step"] for row in history],
                [row[key] for row in history],
                label=" ".join(filter(None, (label, key))),
                marker="." if len(history) < 30 else None,
            )
    ax.set(xlabel="step", ylabel=", ".join(keys), title=title, yscale="log" if logy else "linear")
    ax.legend()
    return ax


# ----------------------------------------------------------------------------- the latent space (notebook 04)


def plot_latent(z, x=None, cfg: MelConfig = DEFAULT_MEL, title: str = "", limit: float = 3.0, cols: int = 4):
    """A latent (C, F', T') as one small image per channel, under its log-mel x (n_mels, frames)
    if given. Colours run from -limit (blue) to +limit (red): set for normalised latents."""
    lat = _numpy(z)
    lat = lat.reshape(-1, *lat.shape[-3:])[0]  # first item: (C, F', T')
    rows = -(-lat.shape[0] // cols)
    fig = plt.figure(figsize=(10, 1.7 * rows + (2.8 if x is not None else 0)), layout="constrained")
    grid = fig.add_gridspec(rows + (2 if x is not None else 0), cols)
    if x is not None:
        plot_mel(x, cfg, ax=fig.add_subplot(grid[:2, :]), title=title)
    seconds = cfg.seconds_for(_numpy(x).shape[-1]) if x is not None else lat.shape[-1]
    for c in range(lat.shape[0]):
        row = c // cols + (2 if x is not None else 0)
        ax = fig.add_subplot(grid[row, c % cols])
        im = ax.imshow(
            lat[c],
            origin="lower",
            aspect="auto",
            cmap="RdBu_r",
            vmin=-limit,
            vmax=limit,
            extent=(0, seconds, 0, lat.shape[1]),
        )
        ax.set_title(f"channel {c}", fontsize=9)
        ax.tick_params(labelsize=7)
        if c >= lat.shape[0] - cols:
            ax.set_xlabel("seconds" if x is not None else "latent frame", fontsize=8)
    fig.colorbar(im, ax=fig.axes[-cols:], pad=0.01, label="normalised latent")
    return fig


def plot_projection(points, labels: dict, title: str = ""):
    """2D points (N, 2), one panel per label: {name: N values}. Text labels get a colour each and a
    legend; numbers (a tempo) a colour scale."""
    p = _numpy(points)
    fig, axes = plt.subplots(1, len(labels), figsize=(4.2 * len(labels), 3.8), squeeze=False)
    for ax, (name, values) in zip(axes[0], labels.items()):
        values = list(values)
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            sc = ax.scatter(p[:, 0], p[:, 1], c=values, cmap="viridis", s=22)
            fig.colorbar(sc, ax=ax, pad=0.01)
        else:
            for i, value in enumerate(sorted(set(values), key=str)):
                keep = [v == value for v in values]
                ax.scatter(p[keep, 0], p[keep, 1], s=22, color=plt.cm.tab10(i % 10), label=str(value))
            ax.legend(fontsize=7, loc="best")
        ax.set(title=f"coloured by {name}", xlabel="PC 1", ylabel="PC 2")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_mel_row(mels: dict, cfg: MelConfig = DEFAULT_MEL, vmin=-1.0, vmax=1.0):
    """Several log-mels side by side, one column each, titled by their dict keys, one colour scale."""
    fig, axes = plt.subplots(1, len(mels), figsize=(2.6 * len(mels), 2.6), sharey=True, squeeze=False)
    for ax, (name, m) in zip(axes[0], mels.items()):
        m = _numpy(m)
        m = m.reshape(-1, *m.shape[-2:])[0]  # (n_mels, frames)
        im = ax.imshow(
            m,
            origin="lower",
            aspect="auto",
            cmap="magma",
            vmin=vmin,
            vmax=vmax,
            extent=(0, cfg.seconds_for(m.shape[-1]), 0, m.shape[0]),
        )
        ax.set(title=name, xlabel="seconds")
    axes[0, 0].set_ylabel("mel band")
    fig.colorbar(im, ax=list(axes[0]), pad=0.01)
    return fig


def __getattr__(name: str):
    # `viz.InterpolationWidget`, built the first time it is named (PEP 562's module __getattr__), so that
    # the library imports where ipywidgets is missing (a GPU machine's own Python, tools/run_notebooks.py)
    if name == "InterpolationWidget":
        return interpolation_widget_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def interpolation_widget_class() -> type:
    """The InterpolationWidget class (notebook 04), defined on first use: it subclasses ipywidgets' VBox,
    so defining it imports ipywidgets, which only the interactive notebooks need."""
    try:
        import ipywidgets as widgets
    except ImportError:
        raise MinidcaeError(
            "the interpolation widget needs the ipywidgets package, which this Python lacks: "
            "pip install ipywidgets==8.1.9"
        ) from None

    class InterpolationWidget(widgets.VBox):
        """A slider for t in [0, 1], the log-mel at t as an image, and an audio player of it.

        `render(t)` returns (log-mel (n_mels, frames), waveform) for a point t of the path; each t
        is rendered once and kept. The text form of the widget names only the slider's range, so a
        saved notebook shows the same text wherever it runs (no audio bytes, no model ids).
        """

        def __init__(
            self, render, cfg: MelConfig = DEFAULT_MEL, steps: int = 20, ends: tuple[str, str] = ("t = 0", "t = 1")
        ):
            self.render, self.cfg, self.steps, self.ends = render, cfg, steps, ends
            self._cache = {}
            self.slider = widgets.FloatSlider(
                value=0.0,
                min=0.0,
                max=1.0,
                step=1 / steps,
                description="t",
                continuous_update=False,
                readout_format=".2f",
            )
            self.caption = widgets.Label()
            self.image = widgets.Image(format="png")
            self.audio = widgets.Audio(format="ogg", autoplay=False, loop=False)
            super().__init__([widgets.HBox([self.slider, self.caption]), self.image, self.audio])
            self.slider.observe(lambda change: self.show(change["new"]), names="value")
            self.show(0.0)

        def _frame(self, t: float) -> tuple[bytes, bytes]:
            key = round(t, 6)
            if key not in self._cache:
                x, wav = self.render(t)
                fig, ax = plt.subplots(figsize=(8, 2.8))
                plot_mel(x, self.cfg, ax=ax, title=f"t = {t:.2f}")
                buf = io.BytesIO()
                fig.savefig(buf, format="png", dpi=72, bbox_inches="tight")
                plt.close(fig)  # drawn into the widget, never shown by the notebook itself
                self._cache[key] = (buf.getvalue(), audio_bytes(wav, self.cfg.sample_rate))
            return self._cache[key]

        def show(self, t: float) -> None:
            """Render the point t of the path into the image and the player."""
            self.image.value, self.audio.value = self._frame(t)
            self.caption.value = f"{100 * (1 - t):.0f}% {self.ends[0]}, {100 * t:.0f}% {self.ends[1]}"

        def __repr__(self) -> str:
            return f"InterpolationWidget({self.ends[0]!r} -> {self.ends[1]!r}, {self.steps} steps)"

    InterpolationWidget.__qualname__ = "InterpolationWidget"
    return InterpolationWidget


class Source:
    """The library's own source of one or more objects, shown in a notebook as highlighted code.

    Notebooks show what they teach from here rather than pasting it, so there is one source of
    truth, and nbval (which compares the plain-text form) fails when code and lesson drift apart.
    """

    def __init__(self, *objs):
        import inspect
        from pathlib import Path

        root = Path(__file__).resolve().parents[2]  # the repository: paths read minidcae/<room>/<module>.py
        self.parts = []
        for obj in objs:
            obj = inspect.unwrap(obj)  # a decorated function (lru_cache, wraps) shows its own code
            path = Path(inspect.getsourcefile(obj)).resolve()
            where = path.relative_to(root) if path.is_relative_to(root) else path.name
            self.parts.append((f"{where}: {obj.__qualname__}", inspect.getsource(obj).rstrip()))

    def __repr__(self) -> str:
        return "\n\n".join(f"# {where}\n{code}" for where, code in self.parts)

    def _repr_markdown_(self) -> str:
        return "\n\n".join(f"`{where}`\n```python\n{code}\n```" for where, code in self.parts)


def show_source(*objs) -> Source:
    """`viz.show_source(dcae.space_to_channel)`: the objects' source, as the cell's output."""
    return Source(*objs)
