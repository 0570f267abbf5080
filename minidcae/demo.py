"""`make demo`: the course's pipeline so far, end to end, on synthetic and bundled real clips.

For each clip: waveform -> log-mel -> Griffin-Lim -> waveform, then measure what was lost.
Writes WAVs, PNG figures and metrics.json under the output folder and prints a table.
"""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from .audio import griffin_lim, load_audio, log_mel, save_audio  # noqa: E402
from .checkpoint import write_json  # noqa: E402
from .config import DATA_SAMPLES, Profile  # noqa: E402
from .data import bundled_clips  # noqa: E402
from .metrics import reconstruction_report  # noqa: E402
from .synth import synth_clip  # noqa: E402
from .viz import plot_mels  # noqa: E402

COLUMNS = ("log_mel_l1_db", "mr_stft", "spectral_convergence", "si_sdr_db")


def demo_clips(profile: Profile, samples_dir: Path = DATA_SAMPLES) -> list[tuple[str, torch.Tensor]]:
    """(name, waveform (1, samples)) for the profile's synthetic clips and one bundled clip per kind."""
    sr = profile.mel.sample_rate
    clips = []
    for seed in range(profile.n_clips):
        wav, labels = synth_clip(seed, profile.clip_seconds, sr)
        clips.append((f"synth{seed:02d}_{labels.instrument}", torch.from_numpy(wav)[None]))
    kinds_seen = set()
    for row in bundled_clips("train", root=samples_dir):
        if row["kind"] not in kinds_seen:
            kinds_seen.add(row["kind"])
            wav = load_audio(row["path"], sr)[:, : int(profile.clip_seconds * sr)]  # (1, samples)
            clips.append((row["path"].stem, wav))
    return clips


def run_demo(out_dir, profile: Profile) -> dict:
    out = Path(out_dir)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    cfg, results, mels = profile.mel, {}, {}
    start = time.perf_counter()
    for name, wav in demo_clips(profile):
        x = log_mel(wav, cfg, name)  # (1, n_mels, frames)
        recon = griffin_lim(x, cfg, profile.griffin_lim_iters)  # (1, frames * hop)
        save_audio(out / "audio" / f"{name}_original.wav", wav, cfg.sample_rate)
        save_audio(out / "audio" / f"{name}_griffin-lim.wav", recon, cfg.sample_rate)
        results[name] = reconstruction_report(wav, recon, cfg)
        if len(mels) < 6:
            mels[f"{name}: original"] = x
            mels[f"{name}: after Griffin-Lim"] = log_mel(recon, cfg)
    seconds = time.perf_counter() - start

    fig = plot_mels(dict(list(mels.items())[:6]), cfg)
    fig.savefig(out / "mels_original_vs_griffin_lim.png", dpi=80)
    plt.close(fig)
    mean = {k: sum(r[k] for r in results.values()) / len(results) for k in COLUMNS}
    report = {"profile": profile.name, "griffin_lim_iters": profile.griffin_lim_iters,
              "seconds": round(seconds, 2), "clips": results, "mean": mean}
    write_json(out / "metrics.json", report)
    print_table(results, mean)
    print(f"wrote {len(results) * 2} WAVs, 1 figure and metrics.json to {out} in {seconds:.1f} s")
    return report


def print_table(results: dict, mean: dict) -> None:
    head = f"{'clip':32s} {'mel L1 dB':>9s} {'MR-STFT':>8s} {'SC':>6s} {'SI-SDR':>7s}"
    print(head)
    print("-" * len(head))
    for name, r in list(results.items()) + [("mean", mean)]:
        print(f"{name:32s} {r['log_mel_l1_db']:9.2f} {r['mr_stft']:8.3f} "
              f"{r['spectral_convergence']:6.3f} {r['si_sdr_db']:7.1f}")
