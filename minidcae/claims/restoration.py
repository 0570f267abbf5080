"""Restoration: compress, (re)generate, reconstruct, applied to damaged audio. The seed article says the
autoencoder idea also restores audio; here the shipped DCAE is fine-tuned on damaged-input / clean-target pairs.

    add_noise / add_clicks / add_hum   one kind of damage each, at a stated level, from a seeded generator
    damage                 all three at the levels the evaluation uses (10 dB SNR, 8 clicks/s, hum at -20 dB)
    random_damage          all three at levels drawn per training crop (what the fine-tune sees)
    DamagedPairs           waveform crops -> {"mel": the clean log-mel, "input": the damaged one}
    restoration_data       synthetic training clips and the bundled train clips (speech included), damaged
    finetune_restorer      a trained DCAE fine-tuned on the pairs (train_autoencoder.autoencoder_losses reads "input")
    restoration_report     damaged clip, each model's output and the Griffin-Lim oracle against the clean clip
    RESTORATION_RULE / restoration_verdict   the rule, stated before any figure was seen, and it applied

A DCAE outputs a log-mel, so its audio goes through Griffin-Lim and loses the phase: SI-SDR would say
nothing (REFERENCE.md). The clean clip is the reference for every figure: mel L1 in dB (on the mel the
model outputs), multi-resolution STFT distance and STOI (on waveforms), PESQ on speech. The Griffin-Lim
oracle (the clean mel inverted) is the best any mel-domain restorer can do with this inversion.
Taught in notebook 13 (the article's remaining claims).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import Dataset

from minidcae.core.config import DATA_SAMPLES, MelConfig, TrainConfig
from minidcae.generation.autoencoding import reconstruct
from minidcae.measure.distances import bootstrap_interval
from minidcae.measure.spectral import mel_db_from_log_mel, mel_l1_db_from_mels, multi_resolution_stft_distance
from minidcae.measure.speech import pesq_available, pesq_score, stoi
from minidcae.models.dcae import DCAE
from minidcae.sound.audio import griffin_lim, log_mel
from minidcae.sound.audio_files import load_audio
from minidcae.sound.data import bundled_clips, heldout_clips
from minidcae.sound.synth import synth_clip
from minidcae.training.recipe import fit
from minidcae.training.trainer import infinite_batches

EVAL_DAMAGE = {"snr_db": 10.0, "clicks_per_second": 8.0, "hum_db": -20.0, "hum_hz": 50.0}

# ----------------------------------------------------------------------------- damage


def add_noise(wav: torch.Tensor, snr_db: float, g: torch.Generator) -> torch.Tensor:
    """White Gaussian noise at snr_db below the clip's power: (..., samples) -> the same shape."""
    noise = torch.randn(wav.shape, generator=g)  # (..., samples)
    # SNR = 10 log10(P_signal / P_noise)  =>  scale = sqrt(P_signal / (P_noise 10^(SNR / 10)))
    scale = (wav.pow(2).mean() / (noise.pow(2).mean() * 10 ** (snr_db / 10))).sqrt()
    return wav + scale * noise


def add_clicks(
    wav: torch.Tensor, sample_rate: int, per_second: float, g: torch.Generator, level: float = 0.5
) -> torch.Tensor:
    """Clicks as on an old record: at per_second random places, a 1 ms burst of decaying noise of
    peak `level` times the clip's peak, random sign. (..., samples) -> the same shape."""
    out = wav.clone()
    n_samples = wav.shape[-1]
    count = int(round(per_second * n_samples / sample_rate))
    length = max(2, sample_rate // 1000)  # 1 ms
    # burst[n] = level * peak * exp(-5 n / length) * noise[n]
    envelope = level * wav.abs().max() * torch.exp(-5 * torch.arange(length) / length)  # (length,)
    starts = torch.randint(0, max(1, n_samples - length), (count,), generator=g).tolist()
    for start in starts:
        burst = envelope * torch.randn(length, generator=g).sign()  # (length,)
        out[..., start : start + length] += burst
    return out


def add_hum(
    wav: torch.Tensor, sample_rate: int, level_db: float, g: torch.Generator, hz: float = 50.0, harmonics: int = 3
) -> torch.Tensor:
    """Mains hum: hz and its first harmonics (amplitudes 1, 1/2, 1/3, ...), random phases, at level_db
    relative to the clip's RMS. (..., samples) -> the same shape."""
    t = torch.arange(wav.shape[-1]) / sample_rate  # (samples,)
    phases = torch.rand(harmonics, generator=g) * 2 * math.pi
    # hum(t) = sum_k sin(2 pi k f t + phi_k) / k
    hum = sum(torch.sin(2 * math.pi * (k + 1) * hz * t + phases[k]) / (k + 1) for k in range(harmonics))  # (samples,)
    # level in dB = 20 log10(RMS_hum / RMS_signal)
    target_rms = wav.pow(2).mean().sqrt() * 10 ** (level_db / 20)
    return wav + hum * target_rms / hum.pow(2).mean().sqrt()


def damage(
    wav: torch.Tensor,
    sample_rate: int,
    g: torch.Generator,
    snr_db: float = EVAL_DAMAGE["snr_db"],
    clicks_per_second: float = EVAL_DAMAGE["clicks_per_second"],
    hum_db: float = EVAL_DAMAGE["hum_db"],
    hum_hz: float = EVAL_DAMAGE["hum_hz"],
) -> torch.Tensor:
    """Hum, then clicks, then noise (levels measured on the clean clip): the evaluation's damage."""
    clean = wav.float()
    out = add_hum(clean, sample_rate, hum_db, g, hum_hz)
    out = add_clicks(out, sample_rate, clicks_per_second, g, 0.5) if clicks_per_second > 0 else out
    noise = add_noise(clean, snr_db, g) - clean  # noise at snr_db below the clean clip
    return out + noise


def random_damage(wav: torch.Tensor, sample_rate: int, g: torch.Generator) -> torch.Tensor:
    """damage() at levels drawn per call: SNR 5 to 25 dB, 0 to 16 clicks/s, hum -35 to -10 dB at 50 or 60 Hz."""
    u = torch.rand(4, generator=g).tolist()
    return damage(wav, sample_rate, g, 5 + 20 * u[0], 16 * u[1], -35 + 25 * u[2], 50.0 if u[3] < 0.5 else 60.0)


# ----------------------------------------------------------------------------- training pairs


class DamagedPairs(Dataset):
    """Waveforms (1, samples) -> item i: a random crop of crop_frames frames of waveform i % n, clean and
    damaged (random_damage), as {"mel": clean log-mel (1, n_mels, crop), "input": damaged log-mel}.
    The crop and the damage depend on (seed, epoch, i) only."""

    def __init__(self, waves: list[torch.Tensor], crop_frames: int, mel: MelConfig, seed: int = 0, length=None):
        self.waves, self.crop, self.mel, self.seed, self.epoch = waves, crop_frames, mel, seed, 0
        self.length = length or len(waves)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        wav = self.waves[index % len(self.waves)]  # (1, samples)
        want = self.crop * self.mel.hop_length
        if wav.shape[-1] < want:
            wav = torch.nn.functional.pad(wav, (0, want - wav.shape[-1]))
        start = int(rng.integers(0, wav.shape[-1] - want + 1))
        clean = wav[:, start : start + want]  # (1, crop hop)
        g = torch.Generator().manual_seed(int(rng.integers(0, 2**31)))
        damaged = random_damage(clean, self.mel.sample_rate, g)  # (1, crop hop)
        return {"mel": log_mel(clean, self.mel), "input": log_mel(damaged, self.mel)}  # (1, n_mels, crop) each


def restoration_data(cfg: TrainConfig, mel: MelConfig, samples_dir=DATA_SAMPLES, real_share: float = 0.5):
    """DamagedPairs over cfg.n_clips synthetic training clips and the bundled train clips (music,
    instruments and speech), the real ones repeated to about real_share of the items."""
    waves = [
        torch.from_numpy(synth_clip(cfg.seed + i, cfg.clip_seconds, mel.sample_rate)[0])[None]
        for i in range(cfg.n_clips)
    ]
    real = [load_audio(row["path"], mel.sample_rate) for row in bundled_clips("train", root=samples_dir)]
    repeats = max(1, round(real_share * len(waves) / ((1 - real_share) * max(1, len(real)))))
    return DamagedPairs(waves + real * repeats, cfg.crop_frames, mel, cfg.seed)


def finetune_restorer(model: DCAE, cfg: TrainConfig, mel: MelConfig, out_dir=None, device=None, quiet=True) -> DCAE:
    """Fine-tune `model` (encoder and decoder) for cfg.steps on damaged -> clean pairs with the autoencoder's
    own losses; returns it (its EMA weights if cfg.ema_decay > 0)."""
    from minidcae.recipes.autoencoder import autoencoder_losses

    batches = infinite_batches(restoration_data(cfg, mel), cfg.batch_size, cfg.seed)
    crop_seconds = cfg.crop_frames * mel.hop_length / mel.sample_rate
    setup = dict(out_dir=out_dir, device=device, seconds_per_item=crop_seconds, quiet=quiet)
    fit("autoencoder", model, autoencoder_losses(cfg), cfg, batches, **setup)
    return model.eval()


# ----------------------------------------------------------------------------- measuring


def eval_clip_sets(mel: MelConfig, n_synth: int = 8) -> dict:
    """{"synthetic held-out" | "speech" | "music": {clip: clean waveform (1, samples)}}: no training run reads them."""
    return heldout_clips(mel, n_synth, real=lambda kind: "speech" if kind == "speech" else "music")


@torch.no_grad()
def restoration_report(models: dict, mel: MelConfig, gl_iters: int = 32, n_synth: int = 8, seed: int = 0) -> dict:
    """{set: {clip: {way: {figure: value}}}} for way in damaged, each of `models` ({name: DCAE}) fed the
    damaged clip, and oracle (Griffin-Lim of the clean mel). Figures against the clean clip: mel_l1_db
    (the damaged clip's mel, or the model's output mel), mr_stft, stoi, and pesq on speech."""
    report, k = {}, 0
    for set_name, clips in eval_clip_sets(mel, n_synth).items():
        for name, clean in clips.items():
            g = torch.Generator().manual_seed(seed * 1000 + k)  # clip k's damage
            k += 1
            damaged = damage(clean, mel.sample_rate, g)  # (1, samples)
            clean_db = mel_db_from_log_mel(log_mel(clean, mel), mel)  # (1, n_mels, frames)
            outputs = {
                "damaged": (damaged, log_mel(damaged, mel)),
                "oracle": (griffin_lim(log_mel(clean, mel), mel, gl_iters), log_mel(clean, mel)),
            }
            for model_name, model in models.items():
                wav, _, x_hat = reconstruct(model.eval(), damaged, mel, gl_iters)
                outputs[model_name] = (wav, x_hat)
            row = {}
            for way, (wav, x) in outputs.items():
                row[way] = {
                    "mel_l1_db": mel_l1_db_from_mels(clean_db, mel_db_from_log_mel(x, mel)),
                    "mr_stft": multi_resolution_stft_distance(clean, wav),
                    "stoi": stoi(clean, wav, mel.sample_rate),
                }
                if set_name == "speech" and pesq_available():
                    row[way]["pesq"] = pesq_score(clean, wav, mel.sample_rate)
            report.setdefault(set_name, {})[name] = row
    return report


RESTORATION_RULE = (
    "The fine-tuned DCAE restores if, over every held-out clip, the 95% bootstrap interval of its paired "
    "difference to the damaged clip (fine-tuned minus damaged) lies wholly below 0 for mel L1 and for MR-STFT; "
    "it beats the shipped DCAE used as it is by the same test (fine-tuned minus shipped). STOI and PESQ are "
    "reported beside, per set: Griffin-Lim caps them (the oracle's figures show the cap)."
)


def paired(report: dict, figure: str, a: str, b: str, sets=None) -> np.ndarray:
    """Per clip, report[..][a][figure] - report[..][b][figure], over the given sets (all by default)."""
    return np.array(
        [
            row[a][figure] - row[b][figure]
            for set_name, clips in report.items()
            if sets is None or set_name in sets
            for row in clips.values()
            if figure in row[a]
        ]
    )


def restoration_verdict(report: dict, model: str = "finetuned", shipped: str = "shipped", n_boot: int = 1000) -> dict:
    """RESTORATION_RULE applied: each comparison's mean difference, its interval and whether it lies below 0."""
    out = {}
    for figure in ("mel_l1_db", "mr_stft"):
        for other in ("damaged", shipped):
            d = paired(report, figure, model, other)
            low, high = bootstrap_interval(lambda x: x.mean(), d, n_boot=n_boot)
            out[f"{figure}_vs_{other}"] = {"mean": float(d.mean()), "ci95": [low, high], "better": high < 0}
    out["restores"] = out["mel_l1_db_vs_damaged"]["better"] and out["mr_stft_vs_damaged"]["better"]
    out["beats_shipped"] = out[f"mel_l1_db_vs_{shipped}"]["better"] and out[f"mr_stft_vs_{shipped}"]["better"]
    return out


def set_means(report: dict) -> dict:
    """{set: {way: {figure: mean over the set's clips}}}."""
    out = {}
    for set_name, clips in report.items():
        rows = list(clips.values())
        out[set_name] = {way: {f: float(np.mean([r[way][f] for r in rows])) for f in rows[0][way]} for way in rows[0]}
    return out
