"""The compression sweep: how much can the DCAE squeeze before the music suffers?

    point_name / point_config   one point: a time factor and a channel count (frequency factor 4)
    train_sweep                 `minidcae sweep`: every point trained with the same TrainConfig on the same data
    evaluate_point              held-out clips: mel L1 in dB, and onset F1 of the Griffin-Lim audio
                                against the synthesizer's true onsets
    sweep_table                 every point measured, with the oracle (the true mel) beside them
    load_sweep                  the checkpoints of a sweep directory, by point name

The seed article says time must never be compressed more than 8x, or rhythm smears. Onset F1
against the time factor tests exactly that: a note that starts inside a latent frame has to be
placed back to within 50 ms by the decoder.

Taught in notebook 05 (evaluating reconstructions).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import torch

from minidcae.core.config import SWEEP_CHANNELS, SWEEP_DCAE, SWEEP_TIME_FACTORS, DCAEConfig, MelConfig
from minidcae.core.errors import MinidcaeError
from minidcae.core.files import atomic_write
from minidcae.core.profiles import Profile
from minidcae.measure.rhythm import detect_onsets, onset_f1
from minidcae.measure.spectral import mel_db_from_log_mel, mel_l1_db_from_mels
from minidcae.models.dcae import DCAE, load_autoencoder
from minidcae.recipes.autoencoder import train_ae
from minidcae.sound.audio import griffin_lim, log_mel
from minidcae.sound.data import synth_clips
from minidcae.training.recipe import Run, mean_over


def point_name(time_factor: int, channels: int) -> str:
    return f"t{time_factor}c{channels}"


def point_config(time_factor: int, channels: int) -> DCAEConfig:
    return replace(SWEEP_DCAE, time_factor=time_factor, latent_channels=channels)


def sweep_points(points: str | None = None) -> list[tuple[int, int]]:
    """ "t8c4,t16c4" -> [(8, 4), (16, 4)]; None -> the whole grid."""
    if points is None:
        return [(t, c) for t in SWEEP_TIME_FACTORS for c in SWEEP_CHANNELS]
    out = []
    for text in points.split(","):
        try:
            t, c = text.strip().lstrip("t").split("c")
            out.append((int(t), int(c)))
        except ValueError:
            raise MinidcaeError(
                f"--points: {text!r} is not a point; write t<time factor>c<channels>, e.g. t8c4,t16c16"
            ) from None
    return out


def train_sweep(
    out_dir, profile: Profile, points: str | None = None, device=None, quiet: bool = False, command: str | None = None
) -> dict[str, Path]:
    """Train each point with profile.sweep_train (same steps, batch, data and seed for all) into
    out_dir/<point>/autoencoder.safetensors; returns {point name: checkpoint path}."""
    paths = {}
    run = Run(device=device, quiet=quiet, command=command, evaluate=False)  # sweep_table measures the points
    for t, c in sweep_points(points):
        point_profile = replace(profile, ae_train=profile.sweep_train, ae=point_config(t, c))
        paths[point_name(t, c)] = train_ae(Path(out_dir) / point_name(t, c), point_profile, run)
    return paths


def heldout_rhythm_clips(mel: MelConfig, n: int = 8, seconds: float = 4.0) -> list[tuple[torch.Tensor, list]]:
    """[(waveform (1, samples), true onset times)] for held-out synthetic clips."""
    return [(wav, list(labels.onsets)) for _, wav, labels in synth_clips(n, seconds, mel.sample_rate)]


@torch.no_grad()
def evaluate_point(model: DCAE | None, mel: MelConfig, clips, gl_iters: int = 32) -> dict:
    """Means over the clips of mel L1 (dB) and onset precision / recall / F1 (50 ms tolerance).
    model=None measures the oracle: the true mel straight to Griffin-Lim.
    onset_f1_inside: the F1 of the same audio with the detector's scale set inside the clip
    (detect_onsets(..., lead_sets_scale=False)), where the oracle bounds the points (notebook 05)."""
    rows = []
    for wav, onsets in clips:
        x = log_mel(wav, mel)  # (1, n_mels, T)
        x_hat = x if model is None else model.decode(model.encode(x[None]), x.shape[-2:])[0].float()  # (1, n_mels, T)
        audio = griffin_lim(x_hat, mel, gl_iters)  # (1, T * hop)
        score = onset_f1(onsets, detect_onsets(audio, mel))
        inside = onset_f1(onsets, detect_onsets(audio, mel, lead_sets_scale=False))
        rows.append(
            {
                "mel_l1_db": mel_l1_db_from_mels(mel_db_from_log_mel(x, mel), mel_db_from_log_mel(x_hat, mel)),
                "onset_precision": score["precision"],
                "onset_recall": score["recall"],
                "onset_f1": score["f1"],
                "onset_f1_inside": inside["f1"],
            }
        )
    return mean_over(rows)


def load_sweep(directory) -> dict[str, tuple[DCAE, dict]]:
    """{point name: (model, meta)} for every <point>.safetensors or <point>/autoencoder.safetensors."""
    directory = Path(directory)
    found = {}
    for t, c in sweep_points():
        name = point_name(t, c)
        for path in (directory / f"{name}.safetensors", directory / name / "autoencoder.safetensors"):
            if path.exists():
                found[name] = load_autoencoder(path)
                break
    if not found:
        raise MinidcaeError(
            f"{directory}: no sweep checkpoints (t2c4.safetensors ... t16c16.safetensors); "
            f"train them with `minidcae sweep --out {directory}`"
        )
    return found


def sweep_table(models: dict, mel: MelConfig, clips, gl_iters: int = 32) -> list[dict]:
    """One row per point (and the oracle first): time factor, channels, compression, metrics."""
    rows = [
        {
            "point": "oracle",
            "time_factor": 1,
            "channels": None,
            "compression": 1.0,
            **evaluate_point(None, mel, clips, gl_iters),
        }
    ]
    for name, (model, meta) in models.items():
        cfg = model.cfg
        rows.append(
            {
                "point": name,
                "time_factor": cfg.time_factor,
                "channels": cfg.latent_channels,
                "compression": cfg.compression(mel.n_mels),
                "train_steps": meta["info"]["train"]["steps"],
                **evaluate_point(model.eval(), mel, clips, gl_iters),
            }
        )
    return rows


def write_table(rows: list[dict], path) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(rows, indent=2) + "\n"))
