"""The neural vocoder's card: what `minidcae train-vocoder` prints and the model card's section on vocoder.safetensors.

    vocoder_summary   where it trained and, per held-out set, the vocoder against Griffin-Lim from the true log-mel
    vocoder_card      the model card's section: how it was made, the held-out table, the vocoder's bar

Taught with notebook 05 (evaluating reconstructions).
"""

from __future__ import annotations

from pathlib import Path

from minidcae.cli.cards.reading import trained_text, wall_time_text
from minidcae.core.config import VocoderConfig


def vocoder_summary(info: dict) -> str:
    """The lines `minidcae train-vocoder` prints after training, from the checkpoint's card."""
    lines = [
        f"{trained_text(info)}; held out, vocoder vs Griffin-Lim ({info['griffin_lim_iters']} iterations) "
        "from the true log-mel:"
    ]
    for name, m in info["heldout"].items():
        line = f"  {name:16s} MR-STFT {m['mr_stft_vocoder']:.3f} vs {m['mr_stft_griffin_lim']:.3f}"
        for key in ("stoi", "pesq"):
            if f"{key}_vocoder" in m:
                line += f"   {key.upper()} {m[f'{key}_vocoder']:.3f} vs {m[f'{key}_griffin_lim']:.3f}"
        lines.append(line + f"   s/clip {m['seconds_vocoder']:.3f} vs {m['seconds_griffin_lim']:.3f}")
    return "\n".join(lines)


def vocoder_card(meta: dict, ckpt: Path) -> list[str]:
    """vocoder.json, worded: the model, its data and phases, and the held-out table against Griffin-Lim."""
    info, cfg, train = meta["info"], meta["config"], meta["info"]["train"]
    lines = [
        "## The neural vocoder (`vocoder.safetensors`)",
        "",
        "A Vocos-style vocoder: ConvNeXt blocks over the mel frames predict each frame's STFT "
        "(log-magnitude and phase), an inverse STFT makes the samples. Load with "
        "`minidcae.models.vocoder.load_vocoder(path)`; use with `--vocoder neural`.",
        "",
        "```bash",
        info["command"],
        "```",
        "",
        f"- model: {cfg['blocks']} ConvNeXt blocks of width {cfg['dim']}, kernel {cfg['kernel']}; "
        f"{info['parameters']:,} parameters (float16 on disk)"
        + (
            "; a frame clock (each bin's phase turn per frame is added, and the network is told k mod "
            f"{VocoderConfig(**cfg).clock_period})"
            if cfg.get("frame_clock")
            else ""
        )
        + (
            f"; {cfg['consistency_steps']} Griffin-Lim steps built in and trained through"
            if cfg.get("consistency_steps")
            else ""
        ),
        f"- data: {train['n_clips']} synthetic clips of {train['clip_seconds']} s and the bundled real train clips"
        + (
            f", plus every file under {', '.join(f'`{d}`' for d in info['extra_audio'])} cut into "
            f"{train['clip_seconds']} s clips, except the files a held-out clip was cut from "
            f"({info['training_clips']:,} clips in all; the Debian packages are listed in `data_samples/make_samples.py`)"
            if info.get("extra_audio")
            else ""
        )
        + f"; crops of {train['crop_frames']} frames at random gains",
        f"- phase one: {info['phases']['phase1']} steps of batch {train['batch_size']}, lr {train['lr']}, mel L1 + "
        f"multi-resolution STFT"
        + (
            f"; phase two: {info['phases']['phase2']} steps adding a multi-resolution STFT discriminator "
            f"(hinge {train['adv_weight']}, feature matching {train['fm_weight']}), lr {train['adv_lr']}"
            if info["phases"].get("phase2")
            else "; no adversarial phase"
        ),
        f"- {wall_time_text(info)}",
        "",
        f"Held out, from the true log-mel, against Griffin-Lim ({info['griffin_lim_iters']} iterations):",
        "",
        "| clip set | MR-STFT vocoder | MR-STFT Griffin-Lim | STOI vocoder | STOI Griffin-Lim | PESQ vocoder | PESQ Griffin-Lim | s per clip vocoder | s per clip Griffin-Lim |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in info["heldout"].items():

        def cell(k, m=m):
            return f"{m[k]:.3f}" if k in m else "-"

        lines.append(
            f"| {name} | {m['mr_stft_vocoder']:.3f} | {m['mr_stft_griffin_lim']:.3f} | {cell('stoi_vocoder')} | "
            f"{cell('stoi_griffin_lim')} | {cell('pesq_vocoder')} | {cell('pesq_griffin_lim')} | "
            f"{m['seconds_vocoder']:.3f} | {m['seconds_griffin_lim']:.3f} |"
        )
    beats = [name for name, m in info["heldout"].items() if m["mr_stft_vocoder"] < m["mr_stft_griffin_lim"]]
    speech, music = info["heldout"]["speech"], info["heldout"]["real music"]
    meets = (
        music["mr_stft_vocoder"] < music["mr_stft_griffin_lim"]
        and speech["pesq_vocoder"] > speech["pesq_griffin_lim"]
        and speech["stoi_vocoder"] > speech["stoi_griffin_lim"]
    )
    lines += [
        "",
        f"It beats Griffin-Lim on MR-STFT for: {', '.join(beats) or 'none'}; on speech, PESQ "
        f"{speech['pesq_vocoder']:.2f} vs {speech['pesq_griffin_lim']:.2f} and STOI {speech['stoi_vocoder']:.3f} vs "
        f"{speech['stoi_griffin_lim']:.3f}. The vocoder's bar (beat Griffin-Lim on real-music MR-STFT and on speech "
        f"PESQ and STOI): **{'met' if meets else 'not met'}**."
        + ("" if meets else " It ships so notebook 05 can compare; Griffin-Lim stays the default."),
        "",
    ]
    return lines
